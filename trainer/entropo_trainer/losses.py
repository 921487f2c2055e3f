"""EntroPO, DPO and KTO losses as pure functions of summed sequence log-probabilities.

Reference: "Building Coding Agents via Entropy-Enhanced Multi-Turn Preference Optimization" (EntroPO),
arXiv 2509.12434. The objective is max E[u] + alpha*H(pi) - beta*H(pi, pi_ref); its implicit reward is
r(t) = alpha*log pi(t) - beta*log pi_ref(t), where log pi(t) sums the log-probs of every assistant token
of the trajectory t. alpha = beta gives back standard DPO/KTO; alpha > beta rewards entropy.

Every input is a float tensor of shape [B] (one value per sequence) unless stated otherwise; the functions
return the mean loss plus detached statistics for logging.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LossOutput:
    """A batch loss with what the progress log shows."""

    loss: torch.Tensor  # [] mean over the batch, differentiable
    losses: torch.Tensor  # [B] per-sequence losses
    chosen_rewards: torch.Tensor  # [B_w] rewards of preferred (desirable) sequences, detached
    rejected_rewards: torch.Tensor  # [B_l] rewards of dispreferred (undesirable) sequences, detached
    logit_scale: torch.Tensor  # [] mean |argument of the sigmoid|; near 10+ the sigmoid is saturated
    correct: torch.Tensor  # [B] bool: pair ranked right (DPO) or sequence on its label's side of z0 (KTO)
    z0: torch.Tensor | None = None  # [] KTO reference point, detached

    @property
    def reward_margin(self) -> float:
        """Mean chosen reward minus mean rejected reward (NaN when one side is empty)."""
        if self.chosen_rewards.numel() == 0 or self.rejected_rewards.numel() == 0:
            return float("nan")
        return float(self.chosen_rewards.mean() - self.rejected_rewards.mean())

    @property
    def accuracy(self) -> float:
        """DPO: share of pairs whose chosen reward beats the rejected one. KTO: share on the right side of z0."""
        return float(self.correct.float().mean()) if self.correct.numel() else float("nan")


def length_normalize(logps: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
    """Divides summed log-probs by the number of assistant tokens: log pi(t) / |t|.

    Our deviation from the paper, off by default: whole-trajectory log-prob gaps are hundreds of nats, so
    (alpha - beta) * gap saturates the sigmoid at the first step; per-token averages keep the logits in a
    range where the loss still has gradient. Apply it to policy and reference alike.
    """
    return logps / n_tokens.clamp(min=1).to(logps.dtype)  # [B]


def entropo_dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
                     ref_rejected: torch.Tensor, alpha: float, beta: float) -> LossOutput:
    """EntroPO-DPO (arXiv 2509.12434):

        loss = -log sigmoid( alpha*[log pi(t_w) - log pi(t_l)] - beta*[log pi_ref(t_w) - log pi_ref(t_l)] )

    i.e. -log sigmoid(r(t_w) - r(t_l)) with r(t) = alpha*log pi(t) - beta*log pi_ref(t). alpha = beta is
    exactly DPO; the authors used beta = 0.1, alpha = 0.11.
    """
    logits = alpha * (policy_chosen - policy_rejected) - beta * (ref_chosen - ref_rejected)  # [B]
    losses = -F.logsigmoid(logits)  # [B]
    chosen_rewards = (alpha * policy_chosen - beta * ref_chosen).detach()  # [B] r(t_w)
    rejected_rewards = (alpha * policy_rejected - beta * ref_rejected).detach()  # [B] r(t_l)
    return LossOutput(loss=losses.mean(), losses=losses, chosen_rewards=chosen_rewards,
                      rejected_rewards=rejected_rewards, logit_scale=logits.detach().abs().mean(),
                      correct=chosen_rewards > rejected_rewards)


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float) -> LossOutput:
    """Standard DPO (Rafailov et al., 2023), the control of arXiv 2509.12434:

        loss = -log sigmoid( beta*[(log pi(t_w) - log pi_ref(t_w)) - (log pi(t_l) - log pi_ref(t_l))] )
    """
    return entropo_dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, alpha=beta, beta=beta)


def kto_reference_point(policy_kl: torch.Tensor, ref_kl: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """z0 = max(0, mean over mismatched (prompt, completion) samples of alpha*log pi - beta*log pi_ref), detached.

    `policy_kl` and `ref_kl` are [M] log-probs of completions paired with another example's prompt.
    """
    return (alpha * policy_kl - beta * ref_kl).mean().clamp(min=0).detach()  # []


def entropo_kto_loss(policy: torch.Tensor, ref: torch.Tensor, labels: torch.Tensor, policy_kl: torch.Tensor,
                     ref_kl: torch.Tensor, alpha: float, beta: float, symmetric: bool = False,
                     desirable_weight: float = 1.0, undesirable_weight: float = 1.0) -> LossOutput:
    """EntroPO-KTO (arXiv 2509.12434). With logratio = log pi(t) - log pi_ref(t) and z0 from
    `kto_reference_point` (alpha*log pi - beta*log pi_ref over mismatched samples):

        authors' code form:  desirable    1 - sigmoid(beta*(logratio - z0))
                             undesirable  1 - sigmoid(beta*(z0 - logratio))
        symmetric form:      desirable    1 - sigmoid(r(t) - z0),  undesirable 1 - sigmoid(z0 - r(t)),
                             with r(t) = alpha*log pi(t) - beta*log pi_ref(t)

    In the symmetric form the reward and z0 are the same quantity on the same scale, and alpha = beta gives
    exactly KTO; the code form multiplies z0 (already a reward) by beta once more, so with alpha = beta it
    is KTO with its KL term scaled by beta. `labels` is a [B] bool tensor (True = desirable); `policy_kl`
    and `ref_kl` are [M]. Per-sequence losses are weighted as in KTO (lambda_D, lambda_U) and averaged.
    """
    z0 = kto_reference_point(policy_kl, ref_kl, alpha, beta)  # []
    if symmetric:
        score = alpha * policy - beta * ref  # [B] r(t)
        logits = torch.where(labels, score - z0, z0 - score)  # [B]
    else:
        logratio = policy - ref  # [B]
        score = beta * logratio  # [B]
        logits = torch.where(labels, beta * (logratio - z0), beta * (z0 - logratio))  # [B]
    weights = torch.where(labels, desirable_weight, undesirable_weight).to(policy.dtype)  # [B]
    losses = weights * (1 - torch.sigmoid(logits))  # [B]
    detached = score.detach()  # [B]
    return LossOutput(loss=losses.mean(), losses=losses, chosen_rewards=detached[labels],
                      rejected_rewards=detached[~labels], logit_scale=logits.detach().abs().mean(),
                      correct=logits.detach() > 0, z0=z0)


def kto_loss(policy: torch.Tensor, ref: torch.Tensor, labels: torch.Tensor, policy_kl: torch.Tensor,
             ref_kl: torch.Tensor, beta: float, desirable_weight: float = 1.0,
             undesirable_weight: float = 1.0) -> LossOutput:
    """Standard KTO (Ethayarajh et al., 2024), the control of arXiv 2509.12434:

        z0 = max(0, mean(log pi - log pi_ref) over mismatched samples), detached
        desirable 1 - sigmoid(beta*(logratio - z0)),  undesirable 1 - sigmoid(beta*(z0 - logratio))
    """
    z0 = (policy_kl - ref_kl).mean().clamp(min=0).detach()  # []
    logratio = policy - ref  # [B]
    logits = torch.where(labels, beta * (logratio - z0), beta * (z0 - logratio))  # [B]
    weights = torch.where(labels, desirable_weight, undesirable_weight).to(policy.dtype)  # [B]
    losses = weights * (1 - torch.sigmoid(logits))  # [B]
    rewards = (beta * logratio).detach()  # [B]
    return LossOutput(loss=losses.mean(), losses=losses, chosen_rewards=rewards[labels],
                      rejected_rewards=rewards[~labels], logit_scale=logits.detach().abs().mean(),
                      correct=logits.detach() > 0, z0=z0)


def sft_loss(token_logps_sum: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
    """Supervised fine-tuning: -sum of target-token log-probs / number of target tokens, over the batch.

    `token_logps_sum` and `n_tokens` are [B]; used to train the LLM judge on its YES/NO answers.
    """
    return -token_logps_sum.sum() / n_tokens.sum().clamp(min=1)  # []
