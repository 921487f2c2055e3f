"""The GGUF adapter: llama.cpp's names, shapes and metadata, and the query/key permutation of llama models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

gguf = pytest.importorskip("gguf")


def _tiny_llama_adapter(tmp_path, heads=4, kv_heads=2, layers=2, rank=4):
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=64)
    model = get_peft_model(LlamaForCausalLM(config), LoraConfig(r=rank, lora_alpha=2 * rank, target_modules="all-linear"))
    with torch.no_grad():  # B starts at zero; a trained adapter's is not, and the permutation must show
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_()
    model.save_pretrained(str(tmp_path / "adapter"))
    return model, config


def _saved(tmp_path):
    """The adapter's tensors as saved (PEFT's names without the adapter name)."""
    from safetensors.torch import load_file

    return load_file(str(tmp_path / "adapter" / "adapter_model.safetensors"))


def _tensors(path):
    reader = gguf.GGUFReader(str(path))
    return reader, {t.name: np.array(t.data).reshape([int(n) for n in reversed(t.shape)]) for t in reader.tensors}


def test_writes_llamacpp_names_shapes_and_metadata(tmp_path):
    from entropo_trainer.gguf_adapter import write_gguf_adapter

    _, config = _tiny_llama_adapter(tmp_path)
    out = write_gguf_adapter(tmp_path / "adapter", tmp_path / "adapter.gguf", "llama", 2, 4, 2)
    reader, tensors = _tensors(out)
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["general.architecture"].contents() == "llama"
    assert reader.fields["adapter.type"].contents() == "lora"
    assert reader.fields["adapter.lora.alpha"].contents() == pytest.approx(8.0)
    names = {f"blk.{i}.{w}.weight.lora_{s}" for i in range(2) for s in "ab"
             for w in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")}
    assert set(tensors) == names
    state = _saved(tmp_path)
    for i in range(2):
        a = state[f"base_model.model.model.layers.{i}.self_attn.v_proj.lora_A.weight"].numpy()
        b = state[f"base_model.model.model.layers.{i}.mlp.down_proj.lora_B.weight"].numpy()
        np.testing.assert_array_equal(tensors[f"blk.{i}.attn_v.weight.lora_a"], a)  # [r, in] as PEFT has it
        np.testing.assert_array_equal(tensors[f"blk.{i}.ffn_down.weight.lora_b"], b)  # [out, r]
        assert tensors[f"blk.{i}.attn_k.weight.lora_b"].shape == (config.num_key_value_heads * 8, 4)


def test_query_and_key_rows_are_permuted_as_transformers_undoes_it(tmp_path):
    """transformers un-permutes llama's attn_q/attn_k when it reads a GGUF; applied to our lora_b it gives PEFT's B back."""
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    from entropo_trainer.gguf_adapter import write_gguf_adapter

    _tiny_llama_adapter(tmp_path)
    _, tensors = _tensors(write_gguf_adapter(tmp_path / "adapter", tmp_path / "a.gguf", "llama", 2, 4, 2))
    undo = LlamaTensorProcessor(config={"num_attention_heads": 4, "num_key_value_heads": 2})
    state = _saved(tmp_path)
    for proj, gguf_name, kv in (("q_proj", "attn_q", 4), ("k_proj", "attn_k", 2)):
        b = state[f"base_model.model.model.layers.1.self_attn.{proj}.lora_B.weight"].numpy()
        written = tensors[f"blk.1.{gguf_name}.weight.lora_b"]
        assert not np.array_equal(written, b)
        np.testing.assert_array_equal(undo._reverse_permute_weights(written, 4, kv), b)
    # the delta B·A seen by llama.cpp is the permuted delta of PEFT
    a = state["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].numpy()
    b = state["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].numpy()
    delta = tensors["blk.0.attn_q.weight.lora_b"] @ tensors["blk.0.attn_q.weight.lora_a"]
    np.testing.assert_allclose(undo._reverse_permute_weights(delta, 4, 4), b @ a, rtol=1e-6)


def test_qwen3_is_written_unpermuted_and_unknown_architectures_are_refused(tmp_path):
    from entropo_trainer.gguf_adapter import GGUFAdapterError, write_gguf_adapter

    _tiny_llama_adapter(tmp_path)
    _, tensors = _tensors(write_gguf_adapter(tmp_path / "adapter", tmp_path / "q.gguf", "qwen3", 2, 4, 2))
    b = _saved(tmp_path)["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].numpy()
    np.testing.assert_array_equal(tensors["blk.0.attn_q.weight.lora_b"], b)
    with pytest.raises(GGUFAdapterError, match="'gpt2' architecture is not supported"):
        write_gguf_adapter(tmp_path / "adapter", tmp_path / "x.gguf", "gpt2", 2, 4, 2)
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(GGUFAdapterError, match="DoRA"):
        write_gguf_adapter(tmp_path / "adapter", tmp_path / "y.gguf", "llama", 2, 4, 2)


def test_a_gguf_base_that_is_not_there_is_a_model_error_naming_it(tmp_path):
    from entropo_trainer.gguf_base import is_gguf
    from entropo_trainer.loop import TrainConfig, resolve_base
    from entropo_trainer.model import ModelLoadError

    missing = tmp_path / "model.Q4_1.gguf"
    assert is_gguf(missing) and not is_gguf(tmp_path)
    (tmp_path / "fake.gguf").write_bytes(b"not a gguf file")
    assert not is_gguf(tmp_path / "fake.gguf")
    config = TrainConfig(method="entropo-dpo", base_model=str(missing), data="d.jsonl", out=str(tmp_path / "o"),
                         gguf_cache=str(tmp_path / "cache"))
    with pytest.raises(ModelLoadError, match=f"{missing} does not exist"):
        resolve_base(config)
