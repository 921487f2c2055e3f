"""One forward pass of a block of sequences, reduced to the per-sequence sums the losses need."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch

from .logps import SequenceStats, hidden_sequence_stats, sequence_stats

#: Models whose last hidden state turned out not to give their logits through the output layer alone
#: (final soft-capping, logit scaling): they keep the full-logits path.
_full_logits_only: weakref.WeakSet = weakref.WeakSet()


@dataclass
class Forward:
    """The sums over assistant tokens and, when asked for, the logits at one position per sequence."""

    stats: SequenceStats
    logits_at: torch.Tensor | None = None  # [B, V]


def _unwrap(model):
    """The module under DDP/DeepSpeed wrappers, which do not forward attribute lookups."""
    while not hasattr(model, "get_output_embeddings") and hasattr(model, "module"):
        model = model.module
    return model


def _whole_output_weight(model) -> torch.Tensor | None:
    """The output layer's [V, D] weight if this process holds it whole, else None (FSDP, ZeRO-3)."""
    layer = _unwrap(model).get_output_embeddings()
    weight = getattr(layer, "weight", None)
    if weight is None or getattr(layer, "bias", None) is not None or hasattr(weight, "ds_id"):
        return None
    if type(weight.data) is not torch.Tensor or weight.dim() != 2 or weight.numel() == 0:
        return None  # a DTensor shard, or an empty placeholder
    return weight


def causal_mask(block: dict) -> torch.Tensor | None:
    """None when every row is right-padded: with causal attention no real token then sees a pad token,
    and without a mask the attention runs on SDPA's flash path instead of a dense [B, 1, T, T] mask."""
    mask = block["attention_mask"]  # [B, T]
    return None if bool((mask[:, :-1] >= mask[:, 1:]).all()) else mask


def forward_stats(model, block: dict, with_entropy: bool = True, logits_at: torch.Tensor | None = None,
                  chunked: bool = True) -> Forward:
    """Runs `model` on `block` ([B, T] input_ids, attention_mask, loss_mask) and sums over its assistant tokens.

    With `chunked`, the model stops at its last hidden state and the output layer runs only on scored
    positions, in chunks (see logps.py); `logits_at` ([B] positions) asks for the full logits there too.
    """
    weight = _whole_output_weight(model) if chunked and model not in _full_logits_only else None
    kwargs = dict(input_ids=block["input_ids"], attention_mask=causal_mask(block), use_cache=False)
    rows = torch.arange(block["input_ids"].shape[0], device=block["input_ids"].device)
    if weight is not None:
        # Through the top-level module, so that DDP's gradient hooks still run; logits for one position only
        out = model(**kwargs, output_hidden_states=True, logits_to_keep=1)
        hidden = out.hidden_states[-1]  # [B, T, D]
        if torch.allclose((hidden[:, -1] @ weight.t()).float(), out.logits[:, -1].float(), rtol=1e-2, atol=1e-2):
            stats = hidden_sequence_stats(hidden, weight, block["input_ids"], block["loss_mask"], with_entropy)
            at = None if logits_at is None else hidden[rows, logits_at] @ weight.t()  # [B, V]
            return Forward(stats, at)
        _full_logits_only.add(model)
    logits = model(**kwargs).logits  # [B, T, V]
    stats = sequence_stats(logits, block["input_ids"], block["loss_mask"], with_entropy)
    return Forward(stats, None if logits_at is None else logits[rows, logits_at])
