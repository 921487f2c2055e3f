"""Fine-tunes a local causal LM with EntroPO (arXiv 2509.12434), DPO, KTO, or as an LLM judge; LoRA via PEFT.

Algorithm. The objective is max E[u] + alpha*H(pi) - beta*H(pi, pi_ref). For a trajectory t, log pi(t)
sums the log-probs of the assistant tokens of every turn (system, user and tool-observation tokens are
masked), and r(t) = alpha*log pi(t) - beta*log pi_ref(t).
  entropo-dpo  -log sigmoid(r(t_w) - r(t_l)) on (chosen, rejected) pairs; alpha = beta is DPO.
  entropo-kto  1 - sigmoid(beta*(logratio - z0)) for accepted, 1 - sigmoid(beta*(z0 - logratio)) for
               rejected trajectories, z0 = max(0, mean of alpha*log pi - beta*log pi_ref over mismatched
               prompt/completion pairs) (the authors' code; --kto-symmetric uses r(t) - z0 instead).
  dpo, kto     the standard losses, as controls.
  judge        supervised LoRA training of a YES/NO verifier on labelled trajectories (entropo-kto data).
pi_ref is the starting model: the same weights with the LoRA adapter disabled; its log-probs are computed
once before training and cached. Optimizer AdamW, cosine schedule with 10% warmup, gradient clipping 1.0.
Whole-trajectory log-prob gaps are hundreds of nats, so (alpha - beta)*gap can saturate the sigmoid at the
first step: watch `logit_scale` and try --length-normalize (our deviation from the paper).

One GPU:
  python -m entropo_trainer.train --method entropo-dpo --base-model /models/Qwen3-Coder-30B-A3B-Instruct \\
      --data prefs.entropo-dpo.jsonl --out runs/dpo1
Many GPUs or nodes (DDP, DeepSpeed ZeRO-3 or FSDP; configs in trainer/configs/):
  accelerate launch --config_file trainer/configs/deepspeed_zero3.yaml -m entropo_trainer.train \\
      --method entropo-dpo --base-model /models/Qwen3-Coder-30B-A3B-Instruct --data prefs.jsonl --out runs/dpo1

The base may be a GGUF file (what llama.cpp, Ollama and LM Studio serve): it is dequantized by transformers
and converted once into a cache. The adapter is written for vLLM (PEFT) and as GGUF for llama.cpp's
`--lora` and Ollama's `ADAPTER` (llama, qwen2, qwen3); the done event carries the commands.

Progress: one JSON object per line on stdout (start, step, done, error), from rank 0; everything else goes
to stderr. Exit codes: 0 done, 1 internal error, 2 usage, 3 data or chat template, 4 missing package,
5 no GPU (pass --cpu-ok), 6 model could not be loaded, 7 out of memory, 128 + the signal's number when
SIGTERM or SIGINT stopped it (an error event of kind `stopped` comes first).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from .outputs import foreign_outputs

EXIT = {"ok": 0, "internal": 1, "usage": 2, "data": 3, "template": 3, "missing_package": 4, "no_gpu": 5,
        "model": 6, "oom": 7, "stopped": 130}  # stopped: 128 + the signal's number (130 is SIGINT's)
METHODS = ("entropo-dpo", "entropo-kto", "dpo", "kto", "judge")

_events = sys.stdout


def emit(event: dict) -> None:
    """Writes one progress event as a JSON line on the real stdout."""
    _events.write(json.dumps(event) + "\n")
    _events.flush()


def fail(kind: str, message: str) -> int:
    """Reports an error event (any rank: a failing worker must be visible) and returns its exit code."""
    rank = int(os.environ.get("RANK", "0"))
    emit({"event": "error", "kind": kind, "message": message, **({"rank": rank} if rank else {})})
    return EXIT[kind]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise SystemExit(fail("usage", message))


def parse_args(argv: list[str] | None):
    """The command line; see the module docstring."""
    p = _Parser(prog="entropo-train", description=__doc__.splitlines()[0])
    p.add_argument("--method", choices=METHODS, default="entropo-dpo")
    p.add_argument("--base-model", required=True,
                   help="local Hugging Face model directory, or a GGUF file (dequantized, converted once into --gguf-cache)")
    p.add_argument("--data", required=True, help="exported JSONL (entropo-dpo/kto or trl-dpo/kto)")
    p.add_argument("--out", required=True, help="output directory (adapter/, merged/, train_config.json)")
    p.add_argument("--alpha", type=float, default=0.11, help="weight of log pi (entropy bonus when > beta)")
    p.add_argument("--beta", type=float, default=0.1, help="weight of log pi_ref (KL strength)")
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=1, help="examples (pairs) per device per micro-batch")
    p.add_argument("--grad-accum", type=int, default=8, help="micro-batches per optimizer step")
    p.add_argument("--max-length", type=int, default=None,
                   help="tokens per sequence; default 12288 (DPO), 18432 (KTO), 16384 (judge)")
    p.add_argument("--lora-rank", type=int, default=8)
    p.add_argument("--lora-alpha", type=int, default=None, help="default: 2 x rank")
    p.add_argument("--length-normalize", action="store_true", help="divide log-probs by assistant tokens")
    p.add_argument("--kto-symmetric", action="store_true", help="KTO with r(t) - z0 instead of the code form")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--merge", action="store_true", help="also save base + adapter merged into OUT/merged")
    p.add_argument("--chat-template", default=None, help="Jinja file replacing the tokenizer's chat template")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    p.add_argument("--no-gradient-checkpointing", action="store_true")
    p.add_argument("--quantize", choices=("4bit",), default=None,
                   help="QLoRA: load the base in 4-bit NF4 (bitsandbytes, CUDA only; trainer/setup.sh quantize)")
    p.add_argument("--no-chunked-logps", action="store_true",
                   help="score tokens from the model's full logits instead of chunks of the output layer "
                        "(more memory and time; for comparison)")
    p.add_argument("--cpu-ok", action="store_true", help="allow training without a GPU (tests, smoke runs)")
    p.add_argument("--gguf-cache", default=None,
                   help="where a GGUF base is converted (default $ENTROPO_GGUF_CACHE, else ~/.cache/entropo/gguf)")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "grad_accum", "lora_rank"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("max_steps", "max_length", "lora_alpha"):  # None: the default
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1 when given")
    # Paths, before anything loads: a minutes-long model load should not end in a typo
    for flag, value in (("--data", args.data), ("--chat-template", args.chat_template)):
        if value is not None and not os.path.isfile(value):
            p.error(f"{flag} {value}: {'a directory, not a file' if os.path.isdir(value) else 'no such file'}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"--out {args.out} is a file; the trainer writes a directory there (adapter/, train_config.json)")
    # Folders of that name that no earlier run wrote are the user's: never replaced
    foreign = foreign_outputs(Path(args.out))
    if foreign:
        p.error(f"--out {args.out} already holds {', '.join(foreign)} that no training run wrote there (no train_config.json); "
                "choose a new or empty folder")
    # A NaN or infinite weight trains to a NaN adapter (or none at all) that would still be reported done;
    # with alpha 0 or a rate of 0 the policy gets no update. Beta 0 (no reference) is a choice.
    for name, zero_ok in (("alpha", False), ("lr", False), ("beta", True)):
        value = getattr(args, name)
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
            p.error(f"--{name} must be a finite number {'at least' if zero_ok else 'above'} 0, not {value}")
    return args


def _config(args):
    from .loop import TrainConfig

    return TrainConfig(method=args.method, base_model=args.base_model, data=args.data, out=args.out,
                       alpha=args.alpha, beta=args.beta, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
                       grad_accum=args.grad_accum, max_length=args.max_length, lora_rank=args.lora_rank,
                       lora_alpha=args.lora_alpha, length_normalize=args.length_normalize,
                       kto_symmetric=args.kto_symmetric, seed=args.seed, merge=args.merge,
                       gradient_checkpointing=not args.no_gradient_checkpointing,
                       chat_template=args.chat_template, max_steps=args.max_steps, quantize=args.quantize,
                       chunked_logps=not args.no_chunked_logps, gguf_cache=args.gguf_cache)


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived: the run ends with an error event instead of a stream cut off mid-way."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, _frame):
    raise Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the process exit code."""
    global _events
    _events, sys.stdout = sys.stdout, sys.stderr  # libraries that print must not corrupt the JSON stream
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        args = parse_args(argv)
        return _run(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT["usage"]
    except Stopped as exc:
        fail("stopped", f"stopped by {signal.Signals(exc.signum).name} before the run finished; "
                        "no adapter of this run was saved")
        return 128 + exc.signum
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        sys.stdout = _events


def _run(args) -> int:
    try:
        import torch
        from .chat import TemplateError
        from .formats import DataError
        from .loop import train
        from .model import ModelLoadError
    except ImportError as exc:
        return fail("missing_package", f"python package {exc.name!r} is missing; run trainer/setup.sh")
    if args.quantize and not torch.cuda.is_available():
        return fail("usage", f"--quantize {args.quantize} needs a CUDA GPU (bitsandbytes' 4-bit kernels); "
                             "leave it out to train the base in its own precision")
    if not torch.cuda.is_available() and not args.cpu_ok:
        return fail("no_gpu", "no CUDA GPU is visible; training a real model needs one. Pass --cpu-ok to run "
                              "on the CPU anyway (only sensible for tiny models)")
    try:
        train(_config(args), emit)
        return EXIT["ok"]
    except TemplateError as exc:
        return fail("template", str(exc))
    except DataError as exc:
        return fail("data", str(exc))
    except ModelLoadError as exc:
        return fail("model", str(exc))
    except torch.cuda.OutOfMemoryError as exc:
        return fail("oom", f"out of GPU memory ({exc}). Lower --max-length or --batch-size (raise --grad-accum "
                           f"to keep the batch), or shard the model with the DeepSpeed ZeRO-3 or FSDP config")
    except ImportError as exc:
        extra = " quantize" if exc.name == "bitsandbytes" else ""
        return fail("missing_package", f"python package {exc.name!r} is missing; run trainer/setup.sh{extra}")
    except Exception as exc:  # noqa: BLE001 - reported as an event with the traceback on stderr
        traceback.print_exc(file=sys.stderr)
        return fail("internal", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    raise SystemExit(main())
