"""How the trained adapter is served: vLLM, llama.cpp's server and Ollama, as the `done` event reports them."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from .gguf_adapter import GGUFAdapterError, write_gguf_adapter
from .gguf_base import GGUFInfo

#: vLLM accepts these values for --max-lora-rank.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
#: Hugging Face `model_type` -> llama.cpp architecture, for adapters trained on a Hugging Face directory.
HF_TO_GGUF_ARCH = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3"}


def vllm_command(base_model: str, adapter_dir: str, lora_rank: int, chat_template: str | None) -> str:
    """The command that serves the base model with the adapter under the name `entropo`."""
    rank = next((r for r in VLLM_LORA_RANKS if r >= lora_rank), lora_rank)
    # Absolute, so that the command works from any folder, not only the one the trainer ran in
    base_model = str(Path(base_model).resolve()) if Path(base_model).exists() else base_model
    chat_template = str(Path(chat_template).resolve()) if chat_template else None
    parts = ["vllm", "serve", base_model, "--enable-lora", "--lora-modules", f"entropo={adapter_dir}",
             "--max-lora-rank", str(rank)]
    if chat_template:
        parts += ["--chat-template", chat_template]
    return shlex.join(parts)


def _shape_from_hf(base_dir: str) -> GGUFInfo | None:
    config = json.loads((Path(base_dir) / "config.json").read_text(encoding="utf-8"))
    arch = HF_TO_GGUF_ARCH.get(config.get("model_type", ""))
    if arch is None:
        return None
    heads = config["num_attention_heads"]
    return GGUFInfo(path=base_dir, architecture=arch, block_count=config["num_hidden_layers"], head_count=heads,
                    head_count_kv=config.get("num_key_value_heads") or heads)


def serve_offers(out_dir: Path, adapter_dir: Path, base_dir: str, gguf: GGUFInfo | None, lora_rank: int,
                 chat_template: str | None) -> dict:
    """Writes `adapter.gguf` (and a `Modelfile` for a GGUF base) next to the adapter; returns the done event's fields.

    `base_dir` is the Hugging Face directory trained on (the base model itself, or a GGUF file's conversion,
    whose shape `gguf` then carries). The llama.cpp and Ollama offers need the base as GGUF: with a Hugging Face
    base they are left out and `gguf_adapter_note` says how to get there.
    """
    offers: dict = {"vllm_command": vllm_command(base_dir, str(adapter_dir), lora_rank, chat_template),
                    "gguf_adapter": None, "gguf_adapter_note": None, "llama_cpp_command": None,
                    "ollama_modelfile": None, "ollama_command": None}
    shape = gguf or _shape_from_hf(base_dir)
    if shape is None:
        offers["gguf_adapter_note"] = "no GGUF adapter: llama.cpp's adapters are written here for llama, qwen2 and qwen3 models"
        return offers
    target = out_dir / "adapter.gguf"
    try:
        write_gguf_adapter(adapter_dir, target, shape.architecture, shape.block_count, shape.head_count, shape.head_count_kv)
    except GGUFAdapterError as exc:
        offers["gguf_adapter_note"] = f"no GGUF adapter: {exc}"
        return offers
    offers["gguf_adapter"] = str(target.resolve())
    if gguf is None:
        offers["gguf_adapter_note"] = ("the base is a Hugging Face directory: convert it to GGUF (llama.cpp's "
                                       "convert_hf_to_gguf.py) to serve it with llama-server --lora or an Ollama ADAPTER")
        return offers
    offers["llama_cpp_command"] = shlex.join(["llama-server", "-m", gguf.path, "--lora", offers["gguf_adapter"]])
    modelfile = out_dir / "Modelfile"
    modelfile.write_text(f"FROM {gguf.path}\nADAPTER {offers['gguf_adapter']}\n", encoding="utf-8")
    offers["ollama_modelfile"] = str(modelfile.resolve())
    offers["ollama_command"] = shlex.join(["ollama", "create", "entropo", "-f", offers["ollama_modelfile"]])
    return offers
