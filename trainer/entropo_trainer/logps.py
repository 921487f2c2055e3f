"""Summed log-probabilities and entropies of the assistant tokens of a batch of sequences.

Two paths compute the same numbers. `sequence_stats` starts from the model's [B, T, V] logits.
`hidden_sequence_stats` starts from the last hidden states and runs the output layer itself, only on the
scored positions and a chunk of rows at a time, recomputing each chunk in the backward pass: with a
150k vocabulary and 16k tokens a step, the full logits would be 5 GB in bf16 and twice that again in
float32, with their gradient on top. The training steps use the second path wherever the output layer's
weight is a plain tensor (one GPU, DDP), and the first where it is sharded (FSDP, ZeRO-3).
"""

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


def _acc(logits: torch.Tensor) -> torch.Tensor:
    return logits.to(torch.promote_types(logits.dtype, torch.float32))  # float32 for bf16, float64 stays


def _chunk_logps(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = _acc(logits)  # [n, V]
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)  # [n]


@torch.no_grad()
def _chunk_entropy(logits: torch.Tensor) -> torch.Tensor:
    logp = torch.log_softmax(_acc(logits), dim=-1)  # [n, V]
    return -(logp.exp() * logp).sum(-1)  # [n]


def _scored(input_ids: torch.Tensor, loss_mask: torch.Tensor):
    """Positions whose next token is scored: (mask [B, T-1], row of each [N], target of each [N])."""
    mask = loss_mask[:, 1:].bool()  # [B, T-1] position t predicts token t+1
    return mask, mask.nonzero(as_tuple=True)[0], input_ids[:, 1:][mask]


def _per_sequence(token_logps, token_entropy, rows, mask, batch: int) -> SequenceStats:
    device = token_logps.device
    logps = torch.zeros(batch, dtype=token_logps.dtype, device=device).index_add(0, rows, token_logps)  # [B]
    entropy_sum = torch.zeros(batch, dtype=token_logps.dtype, device=device)  # [B]
    if token_entropy is not None:
        entropy_sum = entropy_sum.index_add(0, rows, token_entropy)
    return SequenceStats(logps=logps, n_tokens=mask.sum(dim=1), entropy_sum=entropy_sum)


def sequence_stats(logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor,
                   with_entropy: bool = True) -> SequenceStats:
    """Sums log pi over positions whose token is marked in `loss_mask`.

    `logits` is [B, T, V] (position t predicts token t+1), `input_ids` and `loss_mask` are [B, T]. Each
    chunk is checkpointed so that backward recomputes its float32 softmax instead of keeping it.
    """
    mask, rows, targets = _scored(input_ids, loss_mask)
    selected = logits[:, :-1][mask]  # [N, V]
    parts, entropies = [], []
    for start in range(0, selected.shape[0], CHUNK):
        block = selected[start:start + CHUNK]  # [n, V]
        block_targets = targets[start:start + CHUNK]  # [n]
        if torch.is_grad_enabled() and block.requires_grad:
            parts.append(checkpoint(_chunk_logps, block, block_targets, use_reentrant=False))
        else:
            parts.append(_chunk_logps(block, block_targets))
        if with_entropy:
            entropies.append(_chunk_entropy(block))
    token_logps = torch.cat(parts) if parts else _acc(logits.new_zeros(0))  # [N]
    token_entropy = torch.cat(entropies) if entropies else None
    return _per_sequence(token_logps, token_entropy, rows, mask, logits.shape[0])


class _LinearLogProbs(torch.autograd.Function):
    """log softmax(h W^T)[target] and the exact entropy of softmax(h W^T), row by row, in chunks.

    Forward keeps only the per-row log-normalizer; backward recomputes each chunk's logits and applies
    d log p_y / d h = (onehot(y) - softmax(h W^T)) W (and its transpose for W when W is trained).
    """

    @staticmethod
    def forward(ctx, hidden, weight, targets, with_entropy: bool, chunk: int):
        n, acc = hidden.shape[0], torch.promote_types(hidden.dtype, torch.float32)  # float32 for bf16 inputs
        logps = hidden.new_empty(n, dtype=acc)  # [N]
        lse = hidden.new_empty(n, dtype=acc)  # [N]
        entropy = hidden.new_zeros(n if with_entropy else 0, dtype=acc)  # [N] or [0]
        for start in range(0, n, chunk):
            end = min(start + chunk, n)
            logits = (hidden[start:end] @ weight.t()).to(acc)  # [n, V]
            lse[start:end] = torch.logsumexp(logits, dim=-1)
            logps[start:end] = logits.gather(-1, targets[start:end, None]).squeeze(-1) - lse[start:end]
            if with_entropy:
                probs = torch.exp(logits - lse[start:end, None])  # [n, V]
                # H = lse - sum_v p_v * z_v, exact for the float32 logits
                entropy[start:end] = lse[start:end] - (probs * logits).sum(-1)
        ctx.save_for_backward(hidden, weight, targets, lse)
        ctx.chunk = chunk
        ctx.mark_non_differentiable(entropy)
        return logps, entropy

    @staticmethod
    def backward(ctx, grad_logps, _grad_entropy):
        hidden, weight, targets, lse = ctx.saved_tensors
        grad_hidden = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
        grad_weight = torch.zeros_like(weight, dtype=lse.dtype) if ctx.needs_input_grad[1] else None
        for start in range(0, hidden.shape[0], ctx.chunk):
            end = min(start + ctx.chunk, hidden.shape[0])
            logits = (hidden[start:end] @ weight.t()).to(lse.dtype)  # [n, V]
            g = torch.exp(logits - lse[start:end, None]).mul_(-grad_logps[start:end, None])  # [n, V] -p * g
            g.scatter_add_(-1, targets[start:end, None], grad_logps[start:end, None])  # + onehot(y) * g
            g = g.to(hidden.dtype)
            if grad_hidden is not None:
                grad_hidden[start:end] = g @ weight  # [n, D]
            if grad_weight is not None:
                grad_weight += (g.t() @ hidden[start:end]).to(lse.dtype)  # [V, D]
        if grad_weight is not None:
            grad_weight = grad_weight.to(weight.dtype)
        return grad_hidden, grad_weight, None, None, None


def hidden_sequence_stats(hidden: torch.Tensor, weight: torch.Tensor, input_ids: torch.Tensor,
                          loss_mask: torch.Tensor, with_entropy: bool = True, chunk: int = CHUNK) -> SequenceStats:
    """The same sums as `sequence_stats`, from the last hidden states [B, T, D] and the output layer [V, D].

    The output layer runs only on scored positions, `chunk` rows at a time; no [T, V] tensor is kept
    between forward and backward.
    """
    mask, rows, targets = _scored(input_ids, loss_mask)
    selected = hidden[:, :-1][mask]  # [N, D]
    token_logps, token_entropy = _LinearLogProbs.apply(selected, weight, targets, with_entropy, chunk)
    return _per_sequence(token_logps, token_entropy if with_entropy else None, rows, mask, hidden.shape[0])
