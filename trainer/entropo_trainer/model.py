"""Loads a local Hugging Face causal LM with a LoRA adapter; the reference model is the same with it disabled."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch


class ModelLoadError(RuntimeError):
    """The base model or its tokenizer could not be loaded from the given directory."""


def load_tokenizer(base_model: str | Path, chat_template_file: str | Path | None = None):
    """The base model's tokenizer, from local files only; a pad token is set when the model has none."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load a tokenizer from {base_model}: {exc}") from exc
    if chat_template_file:
        tokenizer.chat_template = Path(chat_template_file).read_text(encoding="utf-8")
    if not tokenizer.chat_template:
        raise ModelLoadError(f"{base_model} has no chat template; pass --chat-template FILE")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(base_model: str | Path, lora_rank: int = 8, lora_alpha: int | None = None,
               gradient_checkpointing: bool = True, dtype: torch.dtype | None = None):
    """A PEFT model: the base causal LM (frozen) with a fresh LoRA adapter on every linear layer.

    bf16 on a GPU, float32 on the CPU; `attn_implementation="sdpa"`. LoRA dropout is 0 so that the
    policy equals the reference at step 0 and runs are reproducible.
    """
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    if dtype is None:
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(str(base_model), local_files_only=True, dtype=dtype,
                                                     attn_implementation="sdpa")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load a causal LM from {base_model}: {exc}") from exc
    model.config.use_cache = False
    if gradient_checkpointing:
        # Non-reentrant checkpointing needs no input that requires grad, which a frozen embedding never has
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    config = LoraConfig(r=lora_rank, lora_alpha=lora_alpha or 2 * lora_rank, lora_dropout=0.0,
                        target_modules="all-linear", bias="none", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


@contextlib.contextmanager
def reference_mode(model):
    """Within this context `model` (a PeftModel, possibly wrapped by DDP/DeepSpeed/FSDP) computes pi_ref."""
    inner = model
    while not hasattr(inner, "disable_adapter") and hasattr(inner, "module"):
        inner = inner.module
    with inner.disable_adapter():
        yield


def trainable_parameters(model) -> int:
    """Number of parameters that receive gradients (the LoRA matrices)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def merge_adapter(base_model: str | Path, adapter_dir: str | Path, out_dir: str | Path, tokenizer) -> Path:
    """Loads base + adapter on the CPU, merges the LoRA weights and saves a plain model with the tokenizer.

    Done on the CPU from the saved adapter so that it works the same after DDP, FSDP or ZeRO-3; it needs
    host memory for one copy of the model.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    base = AutoModelForCausalLM.from_pretrained(str(base_model), local_files_only=True, dtype=dtype)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return Path(out_dir)
