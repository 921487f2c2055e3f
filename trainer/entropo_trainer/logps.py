"""Summed log-probabilities and entropies of the assistant tokens of a batch of sequences."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.checkpoint import checkpoint

#: Rows of the [N, vocab] logits handled at once; bounds the float32 copies to CHUNK x vocab.
CHUNK = 2048


@dataclass
class SequenceStats:
    """Per-sequence sums over assistant tokens."""

    logps: torch.Tensor  # [B] sum of log pi(token) over assistant tokens, differentiable
    n_tokens: torch.Tensor  # [B] number of assistant tokens
    entropy_sum: torch.Tensor  # [B] sum over assistant positions of H(pi(. | prefix)), detached


def _chunk_logps(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = logits.float()  # [n, V]
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)  # [n]


@torch.no_grad()
def _chunk_entropy(logits: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(logits.float(), dim=-1)  # [n, V]
    return -(logp.exp() * logp).sum(-1)  # [n]


def sequence_stats(logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor,
                   with_entropy: bool = True) -> SequenceStats:
    """Sums log pi over positions whose token is marked in `loss_mask`.

    `logits` is [B, T, V] (position t predicts token t+1), `input_ids` and `loss_mask` are [B, T]. Each
    chunk is checkpointed so that backward recomputes its float32 softmax instead of keeping it.
    """
    shifted = logits[:, :-1]  # [B, T-1, V]
    targets = input_ids[:, 1:]  # [B, T-1]
    mask = loss_mask[:, 1:].bool()  # [B, T-1]
    rows = mask.nonzero(as_tuple=True)[0]  # [N] sequence index of each scored token
    selected = shifted[mask]  # [N, V]
    selected_targets = targets[mask]  # [N]
    parts, entropies = [], []
    for start in range(0, selected.shape[0], CHUNK):
        block = selected[start:start + CHUNK]  # [n, V]
        block_targets = selected_targets[start:start + CHUNK]  # [n]
        if torch.is_grad_enabled() and block.requires_grad:
            parts.append(checkpoint(_chunk_logps, block, block_targets, use_reentrant=False))
        else:
            parts.append(_chunk_logps(block, block_targets))
        if with_entropy:
            entropies.append(_chunk_entropy(block))
    batch = logits.shape[0]
    token_logps = torch.cat(parts) if parts else logits.new_zeros(0, dtype=torch.float32)  # [N]
    logps = torch.zeros(batch, dtype=torch.float32, device=logits.device).index_add(0, rows, token_logps)  # [B]
    n_tokens = mask.sum(dim=1)  # [B]
    entropy_sum = torch.zeros(batch, dtype=torch.float32, device=logits.device)  # [B]
    if entropies:
        entropy_sum = entropy_sum.index_add(0, rows, torch.cat(entropies))
    return SequenceStats(logps=logps, n_tokens=n_tokens, entropy_sum=entropy_sum)

