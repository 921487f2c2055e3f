"""Loads a local Hugging Face causal LM with a LoRA adapter; the reference model is the same with it disabled."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from safetensors import SafetensorError


class ModelLoadError(RuntimeError):
    """The base model or its tokenizer could not be loaded from the given directory."""


def load_tokenizer(base_model: str | Path, chat_template_file: str | Path | None = None):
    """The base model's tokenizer, from local files only; a pad token is set when the model has none."""
    from transformers import AutoTokenizer

    if not Path(base_model).exists():
        raise ModelLoadError(f"{base_model} does not exist: --base-model is a local Hugging Face model directory or a GGUF file")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load a tokenizer from {base_model}: {exc}") from exc
    if chat_template_file:
        try:
            tokenizer.chat_template = Path(chat_template_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"cannot read the chat template {chat_template_file}: {getattr(exc, 'strerror', None) or exc}") from None
    if not tokenizer.chat_template:
        raise ModelLoadError(f"{base_model} has no chat template; pass --chat-template FILE")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


#: What `--quantize` accepts: None (the base in bf16 on a GPU) or "4bit" (QLoRA: NF4 weights, bf16 compute).
QUANTIZE = (None, "4bit")


def load_base(base_model: str | Path, dtype: torch.dtype | None = None, quantize: str | None = None):
    """The base causal LM from local files: bf16 on a GPU, float32 on the CPU, `attn_implementation="sdpa"`.

    `quantize="4bit"` loads its linear layers as NF4 with double quantization and bf16 compute (QLoRA,
    Dettmers et al. 2023) through bitsandbytes; it needs a CUDA GPU. The embeddings, norms and output
    layer stay in bf16: upcasting them to float32 as PEFT's `prepare_model_for_kbit_training` does would
    cost 2.5 GB each for a 150k vocabulary and change nothing that LoRA trains.
    """
    from transformers import AutoModelForCausalLM

    if quantize not in QUANTIZE:
        raise ValueError(f"unknown quantization {quantize!r}")
    if dtype is None:
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    extra = {}
    if quantize == "4bit":
        from transformers import BitsAndBytesConfig

        import bitsandbytes  # noqa: F401 - fail as a missing package, not as a model that cannot load

        extra["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16)
        extra["device_map"] = {"": torch.cuda.current_device()}
        dtype = torch.bfloat16
    try:
        model = AutoModelForCausalLM.from_pretrained(str(base_model), local_files_only=True, dtype=dtype,
                                                     attn_implementation="sdpa", **extra)
    except (OSError, ValueError, SafetensorError) as exc:  # a missing, foreign or truncated weights file
        raise ModelLoadError(f"cannot load a causal LM from {base_model}: {exc}") from exc
    return model


def add_lora(model, lora_rank: int = 8, lora_alpha: int | None = None, gradient_checkpointing: bool = True):
    """Freezes `model` and adds a fresh LoRA adapter on every linear layer (the experts' too in a MoE).

    LoRA dropout is 0 so that the policy equals the reference at step 0 and runs are reproducible.
    """
    from peft import LoraConfig, get_peft_model

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


def load_model(base_model: str | Path, lora_rank: int = 8, lora_alpha: int | None = None,
               gradient_checkpointing: bool = True, dtype: torch.dtype | None = None, quantize: str | None = None):
    """A PEFT model: the base causal LM (frozen, see `load_base`) with a fresh LoRA adapter (see `add_lora`)."""
    return add_lora(load_base(base_model, dtype, quantize), lora_rank, lora_alpha, gradient_checkpointing)


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
