"""One micro-batch of each training method: forward passes, the loss, and the statistics the log shows."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .forward import forward_stats
from .losses import dpo_loss, entropo_dpo_loss, entropo_kto_loss, kto_loss, length_normalize, sft_loss
from .model import reference_mode

#: Order of the statistics in `StepResult.metrics`: two means, then sums that add up over micro-batches.
METRICS = ("loss", "logit_scale", "chosen_reward_sum", "chosen_count", "rejected_reward_sum", "rejected_count",
           "correct", "judged", "entropy_sum", "entropy_tokens", "tokens")
#: Index of the first summed statistic.
FIRST_SUM = 2


@dataclass
class StepResult:
    """The differentiable loss and a [len(METRICS)] tensor of detached statistics (NaN where undefined)."""

    loss: torch.Tensor
    metrics: torch.Tensor


def to_device(batch: dict, device) -> dict:
    """Moves every tensor of a (nested) batch to `device`."""
    return {k: to_device(v, device) if isinstance(v, dict) else v.to(device) for k, v in batch.items()}


def concat_blocks(a: dict, b: dict, pad_id: int) -> dict:
    """Stacks two padded blocks ([B1, T1] and [B2, T2]) into one [B1+B2, max(T1, T2)] block."""
    width = max(a["input_ids"].shape[1], b["input_ids"].shape[1])
    out = {}
    for key in a:
        value = pad_id if key == "input_ids" else 0
        left = F.pad(a[key], (0, width - a[key].shape[1]), value=value)  # [B1, T]
        right = F.pad(b[key], (0, width - b[key].shape[1]), value=value)  # [B2, T]
        out[key] = torch.cat([left, right])  # [B1+B2, T]
    return out


def _metrics(loss, logit_scale, chosen, rejected, correct, stats, block) -> torch.Tensor:
    """Statistics of one micro-batch; `chosen`/`rejected` are reward tensors, `correct` a bool tensor."""
    values = [float(loss.detach()), float(logit_scale), float(chosen.sum()), chosen.numel(), float(rejected.sum()),
              rejected.numel(), float(correct.sum()), correct.numel(), float(stats.entropy_sum.sum()),
              float(stats.n_tokens.sum()), float(block["attention_mask"].sum())]
    return torch.tensor(values, dtype=torch.float64)  # [len(METRICS)]


def _loss_metrics(out, stats, block) -> torch.Tensor:
    return _metrics(out.loss, out.logit_scale, out.chosen_rewards, out.rejected_rewards, out.correct, stats, block)


@torch.no_grad()
def reference_logps(model, block: dict, chunked: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """log pi_ref summed over assistant tokens, and their counts, both [B]: the model with LoRA disabled."""
    with reference_mode(model):
        stats = forward_stats(model, block, with_entropy=False, chunked=chunked).stats
    return stats.logps, stats.n_tokens


class MethodStep:
    """Computes one micro-batch of `method` given cached reference log-probs (`ref[name]` is [N])."""

    def __init__(self, method: str, alpha: float, beta: float, length_normalize: bool, pad_id: int,
                 kto_symmetric: bool = False, gather=None, chunked: bool = True):
        self.method, self.alpha, self.beta, self.chunked = method, alpha, beta, chunked
        self.normalize, self.pad_id, self.symmetric = length_normalize, pad_id, kto_symmetric
        self.gather = gather or (lambda t: t)

    def __call__(self, model, batch: dict, ref: dict) -> StepResult:
        if self.method in ("entropo-dpo", "dpo"):
            return self._dpo(model, batch, ref)
        if self.method in ("entropo-kto", "kto"):
            return self._kto(model, batch, ref)
        return self._judge(model, batch)

    def _norm(self, logps: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return length_normalize(logps, n) if self.normalize else logps

    def _ref(self, ref: dict, name: str, index: torch.Tensor) -> torch.Tensor:
        return self._norm(ref[name][index], ref[name + ":n"][index])  # [B]

    def _dpo(self, model, batch: dict, ref: dict) -> StepResult:
        block = concat_blocks(batch["chosen"], batch["rejected"], self.pad_id)  # [2B, T]
        stats = forward_stats(model, block, chunked=self.chunked).stats
        policy_chosen, policy_rejected = self._norm(stats.logps, stats.n_tokens).chunk(2)  # [B], [B]
        ref_chosen, ref_rejected = self._ref(ref, "chosen", batch["index"]), self._ref(ref, "rejected", batch["index"])
        if self.method == "dpo":
            out = dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, self.beta)
        else:
            out = entropo_dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, self.alpha, self.beta)
        return StepResult(out.loss, _loss_metrics(out, stats, block))

    def _kto(self, model, batch: dict, ref: dict) -> StepResult:
        block = batch["completion"]
        stats = forward_stats(model, block, chunked=self.chunked).stats
        with torch.no_grad():
            kl = forward_stats(model, batch["kl"], with_entropy=False, chunked=self.chunked).stats
        policy = self._norm(stats.logps, stats.n_tokens)  # [B]
        policy_kl = self.gather(self._norm(kl.logps, kl.n_tokens))  # [M] all processes' KL samples
        ref_kl = self.gather(self._ref(ref, "kl", batch["index"]))  # [M]
        ref_completion, labels = self._ref(ref, "completion", batch["index"]), batch["label"]
        if self.method == "kto":
            out = kto_loss(policy, ref_completion, labels, policy_kl, ref_kl, self.beta)
        else:
            out = entropo_kto_loss(policy, ref_completion, labels, policy_kl, ref_kl, self.alpha, self.beta,
                                   symmetric=self.symmetric)
        return StepResult(out.loss, _loss_metrics(out, stats, block))

    def _judge(self, model, batch: dict) -> StepResult:
        block = batch["target"]
        slot = batch["judge_slot"]  # [B, 3] (position, YES id, NO id)
        out = forward_stats(model, block, logits_at=slot[:, 0] - 1, chunked=self.chunked)
        stats = out.stats
        loss = sft_loss(stats.logps, stats.n_tokens)
        rows = torch.arange(slot.shape[0], device=slot.device)
        answer_logits = out.logits_at.detach()  # [B, V] distribution of the answer token
        says_yes = answer_logits[rows, slot[:, 1]] > answer_logits[rows, slot[:, 2]]  # [B]
        none = torch.zeros(0)
        return StepResult(loss, _metrics(loss, float("nan"), none, none, says_yes == batch["label"], stats, block))


def reference_names(method: str) -> tuple[str, ...]:
    """The sequences whose reference log-probs a method needs cached."""
    if method in ("entropo-dpo", "dpo"):
        return ("chosen", "rejected")
    if method in ("entropo-kto", "kto"):
        return ("completion", "kl")
    return ()
