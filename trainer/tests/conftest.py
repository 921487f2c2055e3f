"""Shared fixtures: a tiny model directory built offline, the export fixtures, and synthetic data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from entropo_trainer.tiny import corpus_from_jsonl, save_tiny

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "schemas" / "fixtures"

# One thread: the tiny models gain nothing from more, and on a busy shared machine OpenMP threads that
# wait for each other make every matmul an order of magnitude slower
torch.set_num_threads(1)


def fixture_lines(name: str) -> list[dict]:
    """The parsed lines of schemas/fixtures/<name>."""
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, lines: list[dict]) -> Path:
    """Writes objects as JSON lines and returns the path."""
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def synthetic_dpo(n: int) -> list[dict]:
    """`n` short text-format pairs on different tasks: small and fast, yet multi-turn."""
    lines = []
    for i in range(n):
        prompt = [{"role": "system", "content": "You fix bugs."},
                  {"role": "user", "content": f"Issue {i}: add({i}, 1) returns {i} instead of {i + 1}."}]
        chosen = [{"role": "assistant", "content": "<function=search>\n<parameter=search_term>def add"
                                                   "</parameter>\n</function>"},
                  {"role": "user", "content": f"Execution output of [search]:\n./calc.py line {i}"},
                  {"role": "assistant", "content": "Fix: return a + b.\n<function=finish>\n<parameter=command>"
                                                   "submit</parameter>\n</function>"}]
        rejected = [{"role": "assistant", "content": f"I will edit the test {i}.\n<function=finish>\n"
                                                     "<parameter=command>submit</parameter>\n</function>"}]
        lines.append({"format": "entropo-dpo-1.0", "task_id": f"t{i}", "prompt": prompt, "chosen": chosen,
                      "rejected": rejected, "action_format": "text"})
    return lines


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny Qwen2 model + BPE tokenizer (trained on the fixtures) saved like any local HF model."""
    out = tmp_path_factory.mktemp("tiny-model")
    corpus = corpus_from_jsonl(sorted(FIXTURES.glob("*.jsonl")))
    corpus += [json.dumps(line) for line in synthetic_dpo(4)]
    return save_tiny(out, corpus, vocab_size=1024, hidden=32, layers=2, seed=0)


@pytest.fixture(scope="session")
def tokenizer(tiny_model_dir):
    """The tiny model's tokenizer, loaded the way the trainer loads it."""
    from entropo_trainer.model import load_tokenizer

    return load_tokenizer(tiny_model_dir)


@pytest.fixture()
def fresh_accelerate():
    """Each in-process training run gets its own accelerate state, as a new process would."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
