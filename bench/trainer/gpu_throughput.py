"""Trainer throughput and memory on one GPU: our EntroPO-DPO loop against TRL's DPOTrainer, side by side.

Builds random-init models from configs (no downloads): Qwen3-8B's shape and Qwen3-30B-A3B's (the paper's
policy, a mixture of experts). Writes synthetic multi-turn `entropo-dpo` pairs whose every sequence is
longer than the length limit, so each is cut to exactly `--length` tokens by the trainer's own data path
(tokenizer, chat template, assistant mask). Every variant runs in its own process (so that peak memory and
an out-of-memory error belong to it alone) with the same LoRA (rank 8, all linear layers), lengths, batch
of one pair, bf16, and reference log-probs precomputed before the first step. Reports the steady state over
steps 3 onward: seconds per step, tokens per second, peak GPU memory and model-FLOPs utilization, where
model FLOPs per token = 4 N (forward and input-gradient of every weight but the input embedding; LoRA
leaves the base without weight gradients) + 6 L H d T (causal attention, forward and backward), against
a 989 TFLOP/s bf16 peak.

One GPU (about 8 minutes on an H200 for every variant):
  python bench/trainer/gpu_throughput.py --out bench/out/gpu.json
A quick check of every code path on the CPU with tiny shapes:
  trainer/.venv/bin/python bench/trainer/gpu_throughput.py --tiny
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2] / "trainer"))

PEAK_TFLOPS = 989.0
#: name -> (shape, length, pairs, steps, options); run in this order while time is left.
VARIANTS = {
    "ours": ("qwen3-8b", 8192, 6, 6, {}),
    "trl": ("qwen3-8b", 8192, 6, 6, {"trainer": "trl"}),
    "ours-full-logits": ("qwen3-8b", 8192, 6, 6, {"chunked": False}),
    "ours-liger": ("qwen3-8b", 8192, 6, 6, {"liger": True}),
    "ours-4bit-12k": ("qwen3-8b", 12288, 5, 5, {"quantize": "4bit"}),
    "moe-30b-a3b": ("qwen3-30b-a3b", 8192, 5, 5, {}),
    "ours-no-ckpt": ("qwen3-8b", 8192, 6, 6, {"checkpointing": False}),
}
TINY = {"ours": ("tiny", 256, 4, 4, {}), "trl": ("tiny", 256, 4, 4, {"trainer": "trl"}),
        "ours-full-logits": ("tiny", 256, 4, 4, {"chunked": False}),
        "moe": ("tiny-moe", 256, 4, 4, {}), "ours-no-ckpt": ("tiny", 256, 4, 4, {"checkpointing": False}),
        # A real 152k vocabulary on a narrow model: what the output layer costs, measurable on a CPU
        "vocab-chunked": ("narrow-152k", 2048, 3, 3, {}),
        "vocab-full-logits": ("narrow-152k", 2048, 3, 3, {"chunked": False})}


def model_config(shape: str):
    """A transformers config of the named shape (Qwen3-8B's and Qwen3-30B-A3B's published configs)."""
    from transformers import Qwen3Config, Qwen3MoeConfig

    common = dict(vocab_size=151936, max_position_embeddings=40960, rope_theta=1_000_000.0, rms_norm_eps=1e-6,
                  tie_word_embeddings=False, head_dim=128, pad_token_id=0, eos_token_id=2, bos_token_id=None)
    if shape == "qwen3-8b":
        return Qwen3Config(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36, num_attention_heads=32,
                           num_key_value_heads=8, **common)
    if shape == "qwen3-30b-a3b":
        return Qwen3MoeConfig(hidden_size=2048, intermediate_size=6144, moe_intermediate_size=768,
                              num_hidden_layers=48, num_attention_heads=32, num_key_value_heads=4, num_experts=128,
                              num_experts_per_tok=8, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
                              **common)
    tiny = dict(common, vocab_size=4096, head_dim=16, max_position_embeddings=4096)
    if shape == "narrow-152k":
        return Qwen3Config(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=2, **dict(tiny, vocab_size=151936, head_dim=32))
    if shape == "tiny":
        return Qwen3Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=2, **tiny)
    return Qwen3MoeConfig(hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, num_experts=8, num_experts_per_tok=2,
                          **tiny)


def model_flops_per_token(model, config, length: int) -> float:
    """4 N_active + 6 L H d T: see the module docstring."""
    total = sum(p.numel() for n, p in model.named_parameters() if "lora_" not in n and "embed_tokens" not in n)
    experts = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n and "lora_" not in n)
    active = total - experts * (1 - config.num_experts_per_tok / config.num_experts) if experts else total
    attention = 6 * config.num_hidden_layers * config.num_attention_heads * config.head_dim * length
    return 4 * active + attention


# ---- data: synthetic multi-turn pairs written to JSONL and read back by the trainer's own data path

_WORDS = ("def class return self value index items range len append dict list path open read write test "
          "assert error raise except import from module config parse token buffer stream offset chunk "
          "result status update merge split join format number string lines count total").split()


def _text(rng: random.Random, words: int) -> str:
    out = []
    for _ in range(words):
        out.append(rng.choice(_WORDS) + (f"_{rng.randrange(1000)}" if rng.random() < 0.3 else ""))
        if rng.random() < 0.12:
            out.append("\n")
    return " ".join(out)


def synthetic_pairs(n: int, length: int, seed: int = 0) -> list[dict]:
    """`n` text-format pairs of more than `length` tokens each (about two tokens a word); each trajectory
    alternates assistant actions and tool observations, with the sizes of a real rollout's turns."""
    rng, lines = random.Random(seed), []
    prompt_words, action_words, observation_words = length // 40, max(8, length // 70), max(8, length // 45)
    for i in range(n):
        prompt = [{"role": "system", "content": "You fix bugs. " + _text(rng, prompt_words)},
                  {"role": "user", "content": f"Issue {i}: " + _text(rng, prompt_words)}]

        def trajectory():
            turns, words = [], 2 * prompt_words
            while words < 0.6 * length:
                action = _text(rng, action_words) + \
                    "\n<function=execute_bash>\n<parameter=cmd>pytest -q</parameter>\n</function>"
                observation = "Execution output of [execute_bash]:\n" + _text(rng, observation_words)
                turns += [{"role": "assistant", "content": action}, {"role": "user", "content": observation}]
                words += action_words + observation_words
            return turns + [{"role": "assistant", "content": "<function=finish>\n<parameter=command>submit"
                                                            "</parameter>\n</function>"}]

        lines.append({"format": "entropo-dpo-1.0", "task_id": f"t{i}", "action_format": "text", "prompt": prompt,
                      "chosen": trajectory(), "rejected": trajectory()})
    return lines


def write_workdir(workdir: Path, pairs: int, length: int) -> tuple[Path, Path]:
    """A tokenizer directory (byte-level BPE over the synthetic words, ChatML template) and the data file."""
    from entropo_trainer.tiny import build_tokenizer

    lines = synthetic_pairs(pairs, length)
    tok_dir = workdir / "tokenizer"
    if not tok_dir.exists():
        build_tokenizer([json.dumps(line) for line in synthetic_pairs(4, 4000, seed=99)], vocab_size=4096) \
            .save_pretrained(tok_dir)
    data = workdir / f"pairs-{pairs}-{length}.jsonl"
    data.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return tok_dir, data


# ---- one variant, in its own process

def _build_base(shape: str, device: str, dtype):
    import torch
    from transformers import AutoModelForCausalLM

    config = model_config(shape)
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    return model, config


def _save_for_loading(model, tok_dir: Path, dest: Path) -> Path:
    """A model directory the trainer loads like a user's (weights and tokenizer), in memory-backed /dev/shm."""
    model.save_pretrained(dest)
    for f in tok_dir.iterdir():
        shutil.copy(f, dest / f.name)
    return dest


class _Clock:
    """Step end times (after a device sync), from which the steady-state step time is taken."""

    def __init__(self):
        self.times: list[float] = []

    def tick(self):
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.times.append(time.perf_counter())

    def steady(self, skip: int = 2) -> float:
        gaps = [b - a for a, b in zip(self.times, self.times[1:])][skip - 1:]  # steps skip+1.. onward
        return sum(gaps) / len(gaps) if gaps else float("nan")


def _run_ours(base, tok_dir, data, length, steps, opts, out_dir, clock, events, quantized_dir=None):
    from entropo_trainer.loop import TrainConfig, train

    config = TrainConfig(method="entropo-dpo", base_model=str(quantized_dir or tok_dir), data=str(data),
                         out=str(out_dir), grad_accum=1, batch_size=1, max_length=length, max_steps=steps,
                         gradient_checkpointing=opts.get("checkpointing", True), quantize=opts.get("quantize"),
                         chunked_logps=opts.get("chunked", True))

    def emit(event):
        events.append(event)
        if event["event"] == "step":
            clock.tick()
        elif event["event"] == "start":
            clock.tick()  # steps start after the reference pass; the first gap is step 1

    return train(config, emit, base=base)


def _run_trl(base, tok_dir, data, length, steps, out_dir, clock):
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    rows = [json.loads(line) for line in Path(data).read_text().splitlines()]
    dataset = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows])
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)

    class Tick(TrainerCallback):
        def on_train_begin(self, *a, **k):
            clock.tick()

        def on_step_end(self, *a, **k):
            clock.tick()

    args = DPOConfig(output_dir=str(out_dir), per_device_train_batch_size=1, gradient_accumulation_steps=1,
                     max_steps=steps, learning_rate=1e-5, lr_scheduler_type="cosine",
                     bf16=torch.cuda.is_available(), gradient_checkpointing=True,
                     gradient_checkpointing_kwargs={"use_reentrant": False}, max_length=length,
                     precompute_ref_log_probs=True, beta=0.1, report_to="none", save_strategy="no",
                     logging_steps=1, dataloader_num_workers=0, remove_unused_columns=False,
                     use_cpu=not torch.cuda.is_available(), disable_tqdm=True)
    lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = DPOTrainer(model=base, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=lora, callbacks=[Tick()])
    trainer.train()


def worker(name: str, spec, tok_dir: Path, data: Path, result_file: Path) -> None:
    """Runs one variant and writes its figures as JSON."""
    import torch

    shape, length, pairs, steps, opts = spec
    cuda = torch.cuda.is_available()
    device, dtype = ("cuda", torch.bfloat16) if cuda else ("cpu", torch.float32)
    result = {"variant": name, "shape": shape, "length": length, "pairs": pairs, "steps": steps, "options": opts,
              "device": torch.cuda.get_device_name() if cuda else "cpu"}
    clock, events = _Clock(), []
    out_dir = Path(tempfile.mkdtemp(prefix=f"entropo-bench-{name}-"))
    try:
        started = time.perf_counter()
        base, config = _build_base(shape, device, dtype)
        result["build_s"] = time.perf_counter() - started
        quantized_dir = None
        if opts.get("quantize"):
            quantized_dir = _save_for_loading(base, tok_dir, Path("/dev/shm" if cuda else out_dir) / f"entropo-{name}")
            del base
            base = None
            torch.cuda.empty_cache()
        if opts.get("liger"):
            from liger_kernel.transformers import apply_liger_kernel_to_qwen3

            apply_liger_kernel_to_qwen3(rope=True, rms_norm=True, swiglu=True, cross_entropy=False,
                                        fused_linear_cross_entropy=False, model=base)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        if opts.get("trainer") == "trl":
            _run_trl(base, tok_dir, data, length, steps, out_dir, clock)
            model_for_flops = base
        else:
            done = _run_ours(base, tok_dir, data, length, steps, opts, out_dir, clock, events, quantized_dir)
            start = next(e for e in events if e["event"] == "start")
            result["examples"], result["truncated"] = start["examples"], start["truncated"]
            result["trainable_params"] = start["trainable_params"]
            result["steps_done"] = done["steps"]
            if base is not None:
                result["lora_targets"] = sorted({n.split(".")[-2] for n, _ in base.named_modules()
                                                 if n.endswith("lora_A")})
            model_for_flops = base if base is not None else _build_base(shape, "meta", dtype)[0]
        step_s = clock.steady()
        tokens_per_step = 2 * length
        flops = model_flops_per_token(model_for_flops, config, length)
        result.update(status="ok", s_per_step=step_s, tokens_per_s=tokens_per_step / step_s,
                      mfu=flops * tokens_per_step / step_s / (PEAK_TFLOPS * 1e12),
                      step_times=[b - a for a, b in zip(clock.times, clock.times[1:])],
                      flops_per_token=flops)
        if events:
            last = [e for e in events if e["event"] == "step"][-1]
            result.update(loss=last["loss"], entropy=last["entropy"], logit_scale=last["logit_scale"])
    except torch.cuda.OutOfMemoryError as exc:
        result.update(status="oom", error=str(exc).splitlines()[0])
    except Exception as exc:  # noqa: BLE001 - a failed variant is reported, the others still run
        import traceback

        traceback.print_exc()
        result.update(status="error", error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        if cuda:
            result["peak_allocated_gib"] = torch.cuda.max_memory_allocated() / 2**30
            result["peak_reserved_gib"] = torch.cuda.max_memory_reserved() / 2**30
        else:  # the process's peak resident memory: model, activations and logits all live there
            import resource

            result["peak_allocated_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        shutil.rmtree(out_dir, ignore_errors=True)
        for leftover in Path("/dev/shm").glob(f"entropo-{name}"):
            shutil.rmtree(leftover, ignore_errors=True)
    result_file.write_text(json.dumps(result), encoding="utf-8")


# ---- the driver

def _row(r: dict) -> str:
    if r.get("status") != "ok":
        return f"| {r['variant']} | {r['shape']} | {r['length']} | {r.get('status')}: {r.get('error', '')[:90]} | | | |"
    mfu = "n/a" if r.get("device") == "cpu" else f"{100 * r['mfu']:.1f}%"
    return (f"| {r['variant']} | {r['shape']} | {r['length']} | {r['s_per_step']:.2f} | {r['tokens_per_s']:,.0f} | "
            f"{r.get('peak_allocated_gib', float('nan')):.1f} | {mfu} |")


def report(results: list[dict]) -> str:
    """The results as a Markdown table, then the ratios against TRL."""
    lines = ["| variant | shape | tokens/seq | s/step | tokens/s | peak GiB (GPU allocated; CPU: RSS) | MFU |",
             "|---|---|---|---|---|---|---|", *(_row(r) for r in results)]
    by = {r["variant"]: r for r in results if r.get("status") == "ok"}
    if "trl" in by:
        for name, r in by.items():
            if name != "trl" and r["shape"] == by["trl"]["shape"] and r["length"] == by["trl"]["length"]:
                lines.append(f"{name} vs trl: {r['tokens_per_s'] / by['trl']['tokens_per_s']:.2f}x tokens/s, "
                             f"{r['peak_allocated_gib'] / by['trl']['peak_allocated_gib']:.2f}x peak memory"
                             if "peak_allocated_gib" in r else f"{name} vs trl: "
                             f"{r['tokens_per_s'] / by['trl']['tokens_per_s']:.2f}x tokens/s")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Runs the chosen variants one process each, within a time budget, and prints the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default=None, help="comma-separated subset, in order (default: all)")
    p.add_argument("--tiny", action="store_true", help="tiny shapes on any device: checks the code paths")
    p.add_argument("--budget-s", type=float, default=480, help="start no variant after this many seconds")
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    p.add_argument("--worker", nargs=4, metavar=("NAME", "TOK", "DATA", "RESULT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    table = TINY if args.tiny else VARIANTS
    import datasets

    datasets.disable_progress_bars()
    if args.worker:
        name, tok, data, res = args.worker
        worker(name, table[name], Path(tok), Path(data), Path(res))
        return 0
    names = args.variants.split(",") if args.variants else list(table)
    started, results = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="entropo-gpu-bench-") as tmp:
        workdir = Path(tmp)
        for name in names:
            spec = table[name]
            left = args.budget_s - (time.perf_counter() - started)
            if left < 30:
                results.append({"variant": name, "shape": spec[0], "length": spec[1], "status": "not run",
                                "error": "time budget spent"})
                continue
            tok_dir, data = write_workdir(workdir, spec[2], spec[1])
            res = workdir / f"{name}.json"
            cmd = [sys.executable, str(HERE), "--worker", name, str(tok_dir), str(data), str(res)]
            cmd += ["--tiny"] if args.tiny else []
            t0 = time.perf_counter()
            try:
                subprocess.run(cmd, timeout=max(left, 30), check=False, env={**os.environ, "PYTHONUNBUFFERED": "1"})
                result = json.loads(res.read_text()) if res.exists() else \
                    {"variant": name, "shape": spec[0], "length": spec[1], "status": "crashed"}
            except subprocess.TimeoutExpired:
                result = {"variant": name, "shape": spec[0], "length": spec[1], "status": "timeout"}
            result["wall_s"] = time.perf_counter() - t0
            results.append(result)
            print(f"[{time.perf_counter() - started:.0f}s] {_row(result)} wall {result['wall_s']:.0f}s", flush=True)
            if args.out:
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
