"""Training on the tiny model: LoRA-only updates, accumulation invariance, full runs and the JSON protocol."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import FIXTURES, fixture_lines, synthetic_dpo, write_jsonl

from entropo_trainer.data import Builder, Collator, build_examples
from entropo_trainer.loop import TrainConfig, cosine_schedule, train
from entropo_trainer.model import load_model
from entropo_trainer.steps import MethodStep, reference_logps
from entropo_trainer.train import main

STEP_KEYS = {"event", "step", "total_steps", "loss", "reward_margin", "pref_accuracy", "logit_scale", "entropy",
             "tokens_per_s", "eta_s", "lr"}
PYTHON = sys.executable
TRAINER_DIR = Path(__file__).resolve().parents[1]


def test_a_step_changes_lora_weights_and_never_the_base(tiny_model_dir, tokenizer):
    model = load_model(tiny_model_dir, gradient_checkpointing=True)
    examples, _ = build_examples("entropo-dpo", "entropo-dpo", synthetic_dpo(2), Builder(tokenizer, 4096))
    batch = Collator(tokenizer.pad_token_id)(examples)
    ref = {}
    for name in ("chosen", "rejected"):
        ref[name], ref[name + ":n"] = reference_logps(model, batch[name])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.0)
    step = MethodStep("entropo-dpo", 0.11, 0.1, True, tokenizer.pad_token_id)
    for round_ in range(2):
        step(model, batch, ref).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        after = dict(model.named_parameters())
        lora_b = [n for n in before if "lora_B" in n]
        lora_a = [n for n in before if "lora_A" in n]
        assert len(lora_a) == len(lora_b) == 14
        assert all(not torch.equal(before[n], after[n]) for n in lora_b)
        # B starts at zero, so A gets no gradient until B has moved
        assert all(torch.equal(before[n], after[n]) != (round_ == 1) for n in lora_a)
        base = [n for n in before if "lora_" not in n]
        assert len(base) == 25 and all(not after[n].requires_grad for n in base)
        assert all(torch.equal(before[n], after[n]) for n in base)


def run_in_process(config: TrainConfig) -> list[dict]:
    events = []
    train(config, events.append)
    return events


def test_grad_accumulation_1x8_and_8x1_give_the_same_curve(tiny_model_dir, tmp_path, fresh_accelerate):
    data = write_jsonl(tmp_path / "pairs.jsonl", synthetic_dpo(8))
    curves, adapters = [], []
    for batch_size, accum in ((8, 1), (1, 8)):
        from accelerate.state import AcceleratorState, GradientState
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
        out = tmp_path / f"run-{batch_size}x{accum}"
        events = run_in_process(TrainConfig(
            method="entropo-dpo", base_model=str(tiny_model_dir), data=str(data), out=str(out), lr=5e-2,
            epochs=5, batch_size=batch_size, grad_accum=accum, length_normalize=True, max_length=2048))
        steps = [e for e in events if e["event"] == "step"]
        assert [e["step"] for e in steps] == [1, 2, 3, 4, 5]
        curves.append([e["loss"] for e in steps])
        from safetensors.torch import load_file
        adapters.append(load_file(str(out / "adapter" / "adapter_model.safetensors")))
    assert curves[0] == pytest.approx(curves[1], abs=2e-6)
    assert curves[0][-1] < curves[0][0] - 1e-3  # the curve moves, so the comparison means something
    assert adapters[0].keys() == adapters[1].keys() and len(adapters[0]) == 28
    # Adam divides by sqrt(v), which magnifies float summation noise in tiny gradients (measured: 1e-4):
    # compare to the size of the update itself (the B matrices start at zero and move by about 0.1 here)
    assert all(torch.allclose(adapters[0][k], adapters[1][k], atol=5e-4) for k in adapters[0])
    assert all(float(adapters[0][k].abs().max()) > 0.05 for k in adapters[0] if "lora_B" in k)


def test_the_schedule_trains_on_every_step_the_first_and_last_included():
    def rates(warmup, total, per_step=1):
        param = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.AdamW([param], lr=1.0)
        scheduler = cosine_schedule(optimizer, warmup, total, per_step)
        out = []
        for _ in range(total):
            out.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            for _ in range(per_step):
                scheduler.step()
        return out

    assert rates(1, 1) == [1.0]  # one step: the whole rate, not transformers' 0
    ten = rates(1, 10)
    assert ten[:2] == [1.0, 1.0] and all(a > b > 0 for a, b in zip(ten[1:], ten[2:]))
    assert ten[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 8 / 9)))
    assert rates(4, 20)[:5] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    assert rates(2, 6, per_step=3) == pytest.approx(rates(2, 6))  # accelerate's once-per-process stepping


def test_a_run_of_one_optimizer_step_changes_the_adapter_and_replaces_an_earlier_runs_outputs(tiny_model_dir, tmp_path,
                                                                                                 fresh_accelerate):
    data = write_jsonl(tmp_path / "pairs.jsonl", synthetic_dpo(2))
    out = tmp_path / "one-step"
    # What an earlier run with --merge and a GGUF base left in the same --out; this run writes neither
    for stale in ("merged/model.safetensors", "adapter/adapter_model.bin", "Modelfile", "adapter.gguf", "train_config.json"):
        (out / stale).parent.mkdir(parents=True, exist_ok=True)
        (out / stale).write_text("from an earlier run")
    (out / "notes.txt").write_text("the user's own")
    events = run_in_process(TrainConfig(method="entropo-dpo", base_model=str(tiny_model_dir), data=str(data),
                                        out=str(out), max_length=2048, lr=1e-2))  # default accumulation 8
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps) == 1 and steps[0]["total_steps"] == 1 and steps[0]["lr"] == pytest.approx(1e-2)
    from safetensors.torch import load_file
    adapter = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    assert all(float(t.abs().max()) > 0 for k, t in adapter.items() if "lora_B" in k)
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "adapter.gguf", "notes.txt", "train_config.json"]
    assert json.loads((out / "train_config.json").read_text())["lr"] == pytest.approx(1e-2)
    assert not (out / "adapter" / "adapter_model.bin").exists()
    assert (out / "adapter.gguf").read_bytes()[:4] == b"GGUF" and events[-1]["ollama_modelfile"] is None


def run_cli(args: list[str], env_extra: dict | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"import sys\n{prelude}\nfrom entropo_trainer.train import main\nsys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, timeout=240, env=env,
                          cwd=TRAINER_DIR)


def test_full_run_from_a_fixture_file_saves_an_adapter_that_loads_again(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    proc = run_cli(["--method", "entropo-dpo", "--base-model", str(tiny_model_dir),
                    "--data", str(FIXTURES / "entropo-dpo.jsonl"), "--out", str(out), "--cpu-ok", "--epochs", "2",
                    "--grad-accum", "1", "--lr", "1e-2", "--merge", "--max-length", "4096"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]  # stdout is nothing but JSON lines
    assert [e["event"] for e in events] == ["start", "step", "step", "step", "step", "done"]
    assert events[0]["examples"] == 2 and events[0]["total_steps"] == 4 and events[0]["skipped"] == 0
    assert all(set(e) == STEP_KEYS for e in events[1:5])
    assert [e["step"] for e in events[1:5]] == [1, 2, 3, 4]
    assert all(e["total_steps"] == 4 and e["entropy"] > 0 and e["tokens_per_s"] > 0 for e in events[1:5])
    done = events[-1]
    adapter = out / "adapter"
    assert done["adapter_dir"] == str(adapter.resolve()) and done["merged_dir"] == str(out / "merged")
    assert done["vllm_command"] == (f"vllm serve {tiny_model_dir} --enable-lora --lora-modules "
                                    f"entropo={adapter.resolve()} --max-lora-rank 8")
    # A Hugging Face base: the GGUF adapter is written, but llama.cpp and Ollama need the base as GGUF too
    assert done["gguf_adapter"] == str((out / "adapter.gguf").resolve()) and (out / "adapter.gguf").stat().st_size > 0
    assert done["llama_cpp_command"] is None and done["ollama_modelfile"] is None
    assert "convert it to GGUF" in done["gguf_adapter_note"]
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), local_files_only=True)
    loaded = PeftModel.from_pretrained(base, str(adapter))
    lora = {n: p for n, p in loaded.named_parameters() if "lora_B" in n}
    assert len(lora) == 14 and all(float(p.abs().sum()) > 0 for p in lora.values())
    merged = AutoModelForCausalLM.from_pretrained(str(out / "merged"), local_files_only=True)
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert torch.allclose(loaded(input_ids=ids).logits, merged(input_ids=ids).logits, atol=1e-4)
    assert json.loads((out / "train_config.json").read_text())["method"] == "entropo-dpo"


def test_kto_and_judge_runs_report_their_metrics(tiny_model_dir, tmp_path, fresh_accelerate):
    data = FIXTURES / "entropo-kto.jsonl"
    events = run_in_process(TrainConfig(method="entropo-kto", base_model=str(tiny_model_dir), data=str(data),
                                        out=str(tmp_path / "kto"), grad_accum=4, max_length=4096, lr=1e-2))
    step = events[1]
    assert step["event"] == "step" and step["total_steps"] == 1
    assert step["reward_margin"] == pytest.approx(0.0, abs=1e-6)  # policy == reference before the first update
    assert step["loss"] == pytest.approx(0.5, abs=1e-6)  # 1 - sigmoid(0) with z0 = 0
    from accelerate.state import AcceleratorState, GradientState
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    events = run_in_process(TrainConfig(method="judge", base_model=str(tiny_model_dir), data=str(data),
                                        out=str(tmp_path / "judge"), grad_accum=2, max_length=4096, epochs=2))
    assert events[0]["examples"] == 4 and events[0]["condensed"] == 0
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps) == 4 and all(e["pref_accuracy"] in (0.0, 0.5, 1.0) for e in steps)
    assert all(e["reward_margin"] is None and e["logit_scale"] is None for e in steps)
    assert events[-1]["event"] == "done"


def error_event(capsys) -> dict:
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_without_a_gpu_and_without_cpu_ok_it_exits_5(tiny_model_dir, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    code = main(["--base-model", str(tiny_model_dir), "--data", str(FIXTURES / "entropo-dpo.jsonl"),
                 "--out", str(tmp_path)])
    assert code == 5
    event = error_event(capsys)
    assert event["event"] == "error" and event["kind"] == "no_gpu" and "--cpu-ok" in event["message"]


def test_quantize_without_a_gpu_is_a_usage_error_before_anything_loads(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    missing = tmp_path / "no-model-here"  # never read: the check comes first
    code = main(["--base-model", str(missing), "--data", str(FIXTURES / "entropo-dpo.jsonl"), "--out",
                 str(tmp_path / "out"), "--quantize", "4bit", "--cpu-ok"])
    assert code == 2
    event = error_event(capsys)
    assert event["kind"] == "usage" and "--quantize 4bit needs a CUDA GPU" in event["message"]
    assert not (tmp_path / "out").exists()


def test_data_and_usage_errors_are_events_with_their_exit_codes(tiny_model_dir, tmp_path, capsys):
    common = ["--base-model", str(tiny_model_dir), "--out", str(tmp_path), "--cpu-ok"]
    assert main([*common, "--data", str(FIXTURES / "invalid" / "entropo-dpo.jsonl")]) == 3
    event = error_event(capsys)
    assert event["kind"] == "data" and "entropo-dpo.jsonl:1" in event["message"] and "major version 2" in event["message"]
    assert main([*common, "--method", "judge", "--data", str(FIXTURES / "entropo-dpo.jsonl")]) == 3
    assert "needs entropo-kto data" in error_event(capsys)["message"]
    assert main([*common, "--data", str(FIXTURES / "entropo-dpo.jsonl"), "--method", "ppo"]) == 2
    assert error_event(capsys)["kind"] == "usage"
    data = ["--data", str(FIXTURES / "entropo-dpo.jsonl")]
    assert main([*data, "--out", str(tmp_path), "--base-model", str(tmp_path / "nothing"), "--cpu-ok"]) == 6
    event = error_event(capsys)
    assert event["kind"] == "model" and "nothing does not exist: --base-model is a local" in event["message"]
    (tmp_path / "latin1.jsonl").write_bytes('{"format": "entropo-dpo-1.0", "task_id": "caf\xe9"}\n'.encode("latin-1"))
    assert main([*common, "--data", str(tmp_path / "latin1.jsonl")]) == 3
    assert "latin1.jsonl: not UTF-8 text" in error_event(capsys)["message"]
    (tmp_path / "a-file").write_text("")
    (tmp_path / "mine" / "adapter").mkdir(parents=True)  # the user's own folders, never replaced
    (tmp_path / "mine" / "Modelfile").write_text("FROM llama3\n")
    for args, says in [(["--data", str(tmp_path / "missing.jsonl")], "missing.jsonl: no such file"),
                       (["--data", str(tmp_path)], ": a directory, not a file"),
                       ([*data, "--chat-template", str(tmp_path / "t.jinja")], "--chat-template"),
                       ([*data, "--out", str(tmp_path / "a-file")], "a-file is a file; the trainer writes a directory"),
                       ([*data, "--out", str(tmp_path / "mine")], "mine already holds adapter, Modelfile that no training run wrote")]:
        assert main([*common, *args]) == 2
        event = error_event(capsys)
        assert event["kind"] == "usage" and says in event["message"], (args, event)
    for flag, value, says in [("--beta", "inf", "--beta must be a finite number at least 0, not inf"),
                              ("--alpha", "nan", "--alpha must be a finite number above 0, not nan"),
                              ("--lr", "-1e-3", "--lr must be a finite number above 0"), ("--alpha", "0", "--alpha must be"),
                              ("--beta", "-0.1", "--beta must be"),
                              ("--max-steps", "0", "--max-steps must be at least 1 when given"),
                              ("--max-length", "-5", "--max-length must be at least 1"),
                              ("--lora-alpha", "0", "--lora-alpha must be at least 1")]:
        assert main([*common, *data, f"{flag}={value}"]) == 2
        event = error_event(capsys)
        assert event["kind"] == "usage" and says in event["message"], (flag, value, event)


def test_a_truncated_weights_file_is_a_model_error_naming_the_folder(tiny_model_dir, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a download cut short
    assert main(["--base-model", str(broken), "--data", str(FIXTURES / "entropo-dpo.jsonl"), "--out",
                 str(tmp_path / "out"), "--cpu-ok"]) == 6
    event = error_event(capsys)
    assert event["kind"] == "model" and f"cannot load a causal LM from {broken}" in event["message"]
    assert not (tmp_path / "out").exists()


def test_sigterm_ends_the_stream_with_a_stopped_event_and_saves_nothing(tiny_model_dir, tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", synthetic_dpo(4))
    out = tmp_path / "run"
    code = "import sys\nfrom entropo_trainer.train import main\nsys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([PYTHON, "-c", code, "--base-model", str(tiny_model_dir), "--data", str(data), "--out",
                             str(out), "--cpu-ok", "--epochs", "500", "--grad-accum", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=TRAINER_DIR,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        events = []
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "step":
                proc.terminate()
                break
        events += [json.loads(line) for line in proc.stdout]
        assert proc.wait(timeout=60) == 128 + 15
    finally:
        proc.kill()
    assert events[0]["event"] == "start" and events[-1]["event"] == "error"
    assert events[-1]["kind"] == "stopped" and "stopped by SIGTERM" in events[-1]["message"]
    assert not (out / "adapter").exists()


def test_a_missing_package_is_reported_as_such(tiny_model_dir, tmp_path):
    proc = run_cli(["--base-model", str(tiny_model_dir), "--data", str(FIXTURES / "entropo-dpo.jsonl"),
                    "--out", str(tmp_path), "--cpu-ok"], prelude="sys.modules['peft'] = None")
    assert proc.returncode == 4
    event = json.loads(proc.stdout.strip())
    assert event == {"event": "error", "kind": "missing_package",
                     "message": "python package 'peft' is missing; run trainer/setup.sh"}
