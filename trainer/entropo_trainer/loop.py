"""The training loop: accelerate, cached reference log-probs, cosine schedule, JSON progress, saving."""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from torch.utils.data import DataLoader

from .data import Builder, Collator, build_examples
from .formats import load_dataset
from .gguf_base import GGUFBaseError, GGUFInfo, converted_dir, is_gguf, read_info
from .model import ModelLoadError, add_lora, load_base, load_tokenizer, merge_adapter, trainable_parameters
from .outputs import OUTPUTS, STAGING, remove_output
from .serve import serve_offers
from .steps import FIRST_SUM, METRICS, MethodStep, reference_logps, reference_names, to_device

#: The authors' truncation lengths (tokens) per method family; the judge's is ours.
DEFAULT_MAX_LENGTH = {"entropo-dpo": 12288, "dpo": 12288, "entropo-kto": 18432, "kto": 18432, "judge": 16384}


@dataclass
class TrainConfig:
    """Everything a run depends on; written to OUT/train_config.json."""

    method: str
    base_model: str
    data: str
    out: str
    alpha: float = 0.11
    beta: float = 0.1
    lr: float = 1e-5
    epochs: int = 1
    batch_size: int = 1
    grad_accum: int = 8
    max_length: int | None = None
    lora_rank: int = 8
    lora_alpha: int | None = None
    length_normalize: bool = False
    kto_symmetric: bool = False
    seed: int = 0
    merge: bool = False
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = True
    chat_template: str | None = None
    max_steps: int | None = None
    quantize: str | None = None
    chunked_logps: bool = True
    #: Where a GGUF base is converted to a Hugging Face directory; None: gguf_base.default_cache_dir().
    gguf_cache: str | None = None


def resolve_base(config: TrainConfig) -> tuple[str, GGUFInfo | None]:
    """The Hugging Face directory to load, and the GGUF file's shape when the base is one (converted once)."""
    if not is_gguf(config.base_model):
        return config.base_model, None
    try:
        base_dir = converted_dir(config.base_model, config.gguf_cache, log=lambda m: print(m, file=sys.stderr))
        return str(base_dir), read_info(config.base_model)
    except GGUFBaseError as exc:
        raise ModelLoadError(str(exc)) from exc


def _reference_cache(model, examples, collator, accelerator, names, batch_size, chunked=True) -> dict:
    """Computes log pi_ref once for every example, split across processes, gathered on all of them."""
    if not names:
        return {}
    results = []
    model.eval()
    with accelerator.split_between_processes(list(range(len(examples))), apply_padding=True) as mine:
        for start in range(0, len(mine), batch_size):
            chunk = mine[start:start + batch_size]
            batch = to_device(collator([examples[i] for i in chunk]), accelerator.device)
            for name in names:
                logps, n = reference_logps(model, batch[name], chunked)
                results += [(i, name, float(lp), int(k)) for i, lp, k in zip(chunk, logps.tolist(), n.tolist())]
    model.train()
    cache = {key: torch.zeros(len(examples), dtype=torch.float32) for n in names for key in (n, n + ":n")}
    for i, name, logp, n in gather_object(results):
        cache[name][i], cache[name + ":n"][i] = logp, n
    return {key: value.to(accelerator.device) for key, value in cache.items()}


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _step_event(step, total, sums: torch.Tensor, lr: float, started: float, tokens_seen: float) -> dict:
    v = dict(zip(METRICS, sums.tolist()))
    elapsed = max(time.time() - started, 1e-9)
    margin = _ratio(v["chosen_reward_sum"], v["chosen_count"]) - _ratio(v["rejected_reward_sum"], v["rejected_count"])
    event = {"event": "step", "step": step, "total_steps": total, "loss": v["loss"], "reward_margin": margin,
             "pref_accuracy": _ratio(v["correct"], v["judged"]), "logit_scale": v["logit_scale"],
             "entropy": _ratio(v["entropy_sum"], v["entropy_tokens"]), "tokens_per_s": tokens_seen / elapsed,
             "eta_s": elapsed / step * (total - step), "lr": lr}
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.items()}


def _reduce(accelerator, micro: list[torch.Tensor]) -> torch.Tensor:
    """Averages the rates and adds up the counts over micro-batches and processes."""
    local = torch.stack(micro).to(accelerator.device)  # [k, len(METRICS)]
    every = accelerator.gather(local.unsqueeze(0)).reshape(-1, len(METRICS))  # [k*P, len(METRICS)]
    out = torch.nanmean(every, dim=0)  # [len(METRICS)]
    out[FIRST_SUM:] = every[:, FIRST_SUM:].sum(0)
    return out.cpu()


def _prepare(config: TrainConfig, base_dir: str, base=None):
    tokenizer = load_tokenizer(base_dir, config.chat_template)
    format_name, objects = load_dataset(config.data)
    max_length = config.max_length or DEFAULT_MAX_LENGTH[config.method]
    examples, stats = build_examples(config.method, format_name, objects,
                                     Builder(tokenizer, max_length, tokenizer.chat_template))
    base = base if base is not None else load_base(base_dir, quantize=config.quantize)
    model = add_lora(base, config.lora_rank, config.lora_alpha, config.gradient_checkpointing)
    return tokenizer, examples, stats, model, max_length


def cosine_schedule(optimizer, warmup: int, total: int, per_step: int = 1) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over `warmup` optimizer steps, then cosine decay; every step trains with a rate above 0.

    transformers' `get_cosine_schedule_with_warmup` gives the first step a rate of 0, so a run of one step
    (a few pairs with the default accumulation) saved an adapter equal to the base. Step k of `total`
    (0-based) trains at (k + 1) / warmup of the rate while warming up, then at 0.5 (1 + cos(pi (k - warmup) /
    (total - warmup))). `per_step`: scheduler steps per optimizer step (accelerate steps it once per process).
    """
    def factor(count: int) -> float:
        k = count // per_step
        if k < warmup:
            return (k + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * (k - warmup) / max(1, total - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train(config: TrainConfig, emit: Callable[[dict], None], base=None) -> dict:
    """Runs one training job and returns the `done` event; `emit` receives every progress event (rank 0).

    `base` is a causal LM already built (benchmarks on random-init models); by default it is loaded
    from `config.base_model` (a Hugging Face directory or a GGUF file), which always provides the tokenizer.
    """
    accelerator = Accelerator(gradient_accumulation_steps=config.grad_accum)

    def report(event: dict) -> None:
        if accelerator.is_main_process:
            emit(event)

    set_seed(config.seed)
    base_dir, gguf = resolve_base(config)
    tokenizer, examples, stats, model, max_length = _prepare(config, base_dir, base)
    collator = Collator(tokenizer.pad_token_id)
    loader = DataLoader(examples, batch_size=config.batch_size, shuffle=True, collate_fn=collator,
                        generator=torch.Generator().manual_seed(config.seed))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                  weight_decay=0.0)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    total = math.ceil(len(loader) / config.grad_accum) * config.epochs
    total = min(total, config.max_steps) if config.max_steps else total
    processes = accelerator.num_processes  # accelerate steps a prepared scheduler once per process
    scheduler = accelerator.prepare(cosine_schedule(optimizer, math.ceil(config.warmup_ratio * total), total, processes))
    report({"event": "start", "method": config.method, "base_model": config.base_model, "data": config.data,
            "out": config.out, "lines": stats.lines, "examples": stats.examples, "truncated": stats.truncated,
            "condensed": stats.condensed, "skipped": sum(stats.skipped.values()),
            "skip_reasons": dict(stats.skipped), "max_length": max_length, "total_steps": total,
            "num_processes": processes, "device": str(accelerator.device),
            "trainable_params": trainable_parameters(model), "config": asdict(config)})
    ref = _reference_cache(model, examples, collator, accelerator, reference_names(config.method),
                           config.batch_size, config.chunked_logps)
    step_fn = MethodStep(config.method, config.alpha, config.beta, config.length_normalize,
                         tokenizer.pad_token_id, config.kto_symmetric, gather=accelerator.gather,
                         chunked=config.chunked_logps)
    _run_steps(config, accelerator, model, optimizer, scheduler, loader, step_fn, ref, total, report)
    return _save(config, accelerator, model, tokenizer, total, report, base_dir, gguf)


def _run_steps(config, accelerator, model, optimizer, scheduler, loader, step_fn, ref, total, emit) -> None:
    step, micro, started, tokens_seen = 0, [], time.time(), 0.0
    model.train()
    for _epoch in range(config.epochs):
        for batch in loader:
            with accelerator.accumulate(model):
                lr = optimizer.param_groups[0]["lr"]  # the rate this step uses, before the scheduler moves it
                result = step_fn(model, batch, ref)
                accelerator.backward(result.loss)
                if accelerator.sync_gradients and config.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            micro.append(result.metrics)
            if not accelerator.sync_gradients:
                continue
            sums = _reduce(accelerator, micro)
            step, micro = step + 1, []
            tokens_seen += float(sums[METRICS.index("tokens")])
            emit(_step_event(step, total, sums, lr, started, tokens_seen))
            if step >= total:
                return


def _save(config, accelerator, model, tokenizer, total, report, base_dir: str, gguf: GGUFInfo | None) -> dict:
    out = Path(config.out)
    staging = out / STAGING
    if accelerator.is_main_process:
        remove_output(staging)  # left by a run stopped while saving
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    merged_dir, offers = None, {}
    try:
        unwrapped.save_pretrained(str(staging / "adapter"), is_main_process=accelerator.is_main_process,
                                  save_function=accelerator.save, state_dict=accelerator.get_state_dict(model))
        accelerator.wait_for_everyone()
        # Only rank 0 goes on; the other ranks are done, so a long CPU merge cannot time out a collective
        if accelerator.is_main_process:
            (staging / "train_config.json").write_text(json.dumps(asdict(config), indent=2) + "\n", encoding="utf-8")
            if config.merge:
                merge_adapter(base_dir, staging / "adapter", staging / "merged", tokenizer)
            for name in OUTPUTS:  # the earlier run's outputs go only now, and this run's take their place
                remove_output(out / name)
                if (staging / name).exists():
                    (staging / name).rename(out / name)
            staging.rmdir()
    except BaseException:  # a full disk, a stop: the earlier run's outputs stay as they were
        if accelerator.is_main_process:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    adapter_dir = out / "adapter"
    if accelerator.is_main_process:
        merged_dir = str(out / "merged") if config.merge else None
        offers = serve_offers(out, adapter_dir.resolve(), base_dir, gguf, config.lora_rank, config.chat_template)
    done = {"event": "done", "adapter_dir": str(adapter_dir.resolve()), "merged_dir": merged_dir, "steps": total,
            **offers}
    report(done)
    return done
