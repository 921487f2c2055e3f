"""Writes a PEFT LoRA adapter as a GGUF LoRA adapter, the file llama.cpp (`--lora F`) and Ollama (`ADAPTER F`) load.

What llama.cpp expects (its `convert_lora_to_gguf.py`, which needs the whole llama.cpp source tree and a
pinned transformers, does the same): metadata `general.type = adapter`, `adapter.type = lora` and
`adapter.lora.alpha`; for every adapted weight W of shape [out, in], two tensors named after W's GGUF
name plus `.lora_a` ([r, in], PEFT's lora_A) and `.lora_b` ([out, r], PEFT's lora_B). llama.cpp scales
B·A by alpha / r, as PEFT does. For the llama architecture the GGUF conversion permutes the rows of the
query and key projections (rotary halves interleaved); W' = P·W = (P·B)·A, so only lora_b is permuted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

#: Architectures whose GGUF conversion permutes the query/key rows (llama.cpp's LlamaModel.permute).
PERMUTED = {"llama"}
#: Architectures whose linear layers are written as they are.
PLAIN = {"qwen2", "qwen3"}


class GGUFAdapterError(RuntimeError):
    """The adapter cannot be written as GGUF (an architecture or layer llama.cpp's adapters do not cover)."""


def permute_rows(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """llama.cpp's query/key permutation of the first axis: per head, the two rotary halves interleaved."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _hf_name(peft_key: str) -> tuple[str, str]:
    """`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight` -> (`model.layers.0.self_attn.q_proj.weight`, `a`)."""
    key = peft_key.removeprefix("base_model.model.")
    for marker, side in ((".lora_A.weight", "a"), (".lora_B.weight", "b")):
        if key.endswith(marker):
            return key[: -len(marker)] + ".weight", side
    raise GGUFAdapterError(f"{peft_key}: only LoRA matrices of linear layers can be written as GGUF")


def write_gguf_adapter(adapter_dir: str | Path, out_file: str | Path, architecture: str, block_count: int,
                       head_count: int, head_count_kv: int) -> Path:
    """Converts `adapter_dir` (adapter_config.json + adapter_model.safetensors) into the GGUF file `out_file`."""
    import gguf
    from safetensors.torch import load_file

    if architecture not in PERMUTED | PLAIN:
        raise GGUFAdapterError(f"writing GGUF adapters for the {architecture!r} architecture is not supported "
                               f"(supported: {', '.join(sorted(PERMUTED | PLAIN))})")
    adapter_dir = Path(adapter_dir)
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("use_dora") or config.get("use_rslora"):
        raise GGUFAdapterError("DoRA and rsLoRA adapters have no GGUF form in llama.cpp")
    arch = next((a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == architecture), None)
    if arch is None:
        raise GGUFAdapterError(f"the gguf package does not know the {architecture!r} architecture")
    names = gguf.get_tensor_name_map(arch, block_count)
    tensors = load_file(str(adapter_dir / "adapter_model.safetensors"))
    writer = gguf.GGUFWriter(str(out_file), architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    for key in sorted(tensors):
        hf_name, side = _hf_name(key)
        name = names.get_name(hf_name, try_suffixes=(".weight",))
        if name is None:
            raise GGUFAdapterError(f"{hf_name} has no GGUF name for the {architecture!r} architecture")
        data = tensors[key].float().numpy()  # [r, in] for a, [out, r] for b; bf16 has no numpy type
        if side == "b" and architecture in PERMUTED:
            if hf_name.endswith("self_attn.q_proj.weight"):
                data = permute_rows(data, head_count, head_count)
            elif hf_name.endswith("self_attn.k_proj.weight"):
                data = permute_rows(data, head_count, head_count_kv)
        writer.add_tensor(f"{name}.lora_{side}", np.ascontiguousarray(data))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(out_file)
