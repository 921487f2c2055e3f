"""Two data-parallel processes (torchrun, gloo on the CPU) train exactly like one process with twice the batch."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import synthetic_dpo, write_jsonl

from entropo_trainer.loop import TrainConfig, train

TRAINER_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_command() -> list[str]:
    local = Path(sys.executable).parent / "torchrun"
    return [str(local)] if local.exists() else [sys.executable, "-m", "torch.distributed.run"]


def test_two_processes_match_one_process_with_twice_the_batch(tiny_model_dir, tmp_path, fresh_accelerate):
    data = write_jsonl(tmp_path / "pairs.jsonl", synthetic_dpo(8))
    args = ["--method", "entropo-dpo", "--base-model", str(tiny_model_dir), "--data", str(data), "--cpu-ok",
            "--batch-size", "1", "--grad-accum", "2", "--epochs", "2", "--lr", "5e-2", "--length-normalize"]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([*torchrun_command(), "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
                           "--master_port", str(free_port()), "-m", "entropo_trainer.train", *args,
                           "--out", str(tmp_path / "ddp")], capture_output=True, text=True, timeout=240, env=env,
                          cwd=TRAINER_DIR)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = [json.loads(line) for line in proc.stdout.splitlines()]  # one stream: only rank 0 prints
    assert [e["event"] for e in ddp] == ["start", "step", "step", "step", "step", "done"]
    assert ddp[0]["num_processes"] == 2 and ddp[0]["total_steps"] == 4
    single = []
    train(TrainConfig(method="entropo-dpo", base_model=str(tiny_model_dir), data=str(data), out=str(tmp_path / "one"),
                      batch_size=2, grad_accum=2, epochs=2, lr=5e-2, length_normalize=True), single.append)
    assert single[0]["num_processes"] == 1 and single[0]["total_steps"] == 4
    for a, b in zip(ddp[1:5], single[1:5]):
        for key in ("loss", "reward_margin", "pref_accuracy", "entropy", "lr"):
            assert a[key] == pytest.approx(b[key], abs=1e-6), key
    assert ddp[4]["loss"] < ddp[1]["loss"] - 1e-3
