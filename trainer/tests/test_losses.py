"""Loss values computed by hand (arithmetic in the comments), z0, and the alpha = beta reductions."""

import math

import pytest
import torch

from entropo_trainer.losses import (dpo_loss, entropo_dpo_loss, entropo_kto_loss, kto_loss, kto_reference_point,
                                    length_normalize, sft_loss)


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def softplus_neg(z):
    """-log sigmoid(z) = log(1 + e^-z)."""
    return math.log1p(math.exp(-z))


def sig(x):
    return 1 / (1 + math.exp(-x))


# Pair 1: pc=-10, pr=-12, rc=-11, rr=-11.5. Pair 2: pc=-20, pr=-15, rc=-19, rr=-16.
PC, PR, RC, RR = t(-10, -20), t(-12, -15), t(-11, -19), t(-11.5, -16)


def test_entropo_dpo_loss_by_hand():
    out = entropo_dpo_loss(PC, PR, RC, RR, alpha=0.11, beta=0.1)
    # pair 1: 0.11*(-10+12) - 0.1*(-11+11.5) = 0.22 - 0.05 = 0.17 -> log(1+e^-0.17) = 0.6117553388706229
    # pair 2: 0.11*(-20+15) - 0.1*(-19+16) = -0.55 + 0.30 = -0.25 -> log(1+e^0.25) = 0.8259394198788436
    assert out.losses.tolist() == pytest.approx([0.6117553388706229, 0.8259394198788436], abs=1e-12)
    assert float(out.loss) == pytest.approx(0.7188473793747332, abs=1e-12)
    # r(t) = alpha*log pi - beta*log pi_ref: pair 1 chosen 0.11*-10 + 1.1 = 0, rejected 0.11*-12 + 1.15 = -0.17
    assert out.chosen_rewards.tolist() == pytest.approx([0.0, -0.3], abs=1e-12)
    assert out.rejected_rewards.tolist() == pytest.approx([-0.17, -0.05], abs=1e-12)
    assert out.reward_margin == pytest.approx((0.0 - 0.3) / 2 - (-0.17 - 0.05) / 2, abs=1e-12)  # -0.04
    assert out.correct.tolist() == [True, False]
    assert out.accuracy == 0.5
    assert float(out.logit_scale) == pytest.approx((0.17 + 0.25) / 2, abs=1e-12)


def test_entropo_dpo_gradient_matches_the_derivative():
    pc = t(-10.0).requires_grad_()
    entropo_dpo_loss(pc, t(-12), t(-11), t(-11.5), alpha=0.11, beta=0.1).loss.backward()
    # d/dpc [-log sigmoid(z)] = -(1 - sigmoid(z)) * alpha with z = 0.17
    assert float(pc.grad) == pytest.approx(-(1 - sig(0.17)) * 0.11, abs=1e-12)


def test_alpha_equal_beta_is_standard_dpo():
    standard = dpo_loss(PC, PR, RC, RR, beta=0.1)
    # pair 1: 0.1*((-10+11) - (-12+11.5)) = 0.1*1.5 = 0.15 -> log(1+e^-0.15) = 0.6209570477895321
    assert float(standard.losses[0]) == pytest.approx(0.6209570477895321, abs=1e-12)
    same = entropo_dpo_loss(PC, PR, RC, RR, alpha=0.1, beta=0.1)
    assert torch.allclose(standard.losses, same.losses, atol=0, rtol=0)
    textbook = -torch.nn.functional.logsigmoid(0.1 * ((PC - RC) - (PR - RR)))
    assert torch.allclose(standard.losses, textbook, atol=1e-12)
    assert not torch.allclose(entropo_dpo_loss(PC, PR, RC, RR, 0.11, 0.1).losses, textbook)


# KTO: policy [-5, -7], ref [-6, -6], labels [desirable, undesirable]; KL samples policy [-2, -4], ref [-3, -5]
POLICY, REF, LABELS = t(-5, -7), t(-6, -6), torch.tensor([True, False])
PKL, RKL = t(-2, -4), t(-3, -5)


def test_kto_reference_point_as_specified():
    # mean(0.11*-2 + 0.1*3, 0.11*-4 + 0.1*5) = mean(0.08, 0.06) = 0.07
    assert float(kto_reference_point(PKL, RKL, 0.11, 0.1)) == pytest.approx(0.07, abs=1e-12)
    # mean over M = 3 mismatched samples, not over the batch: (0.08 + 0.06 + (0.11*-1 + 0.1*1)) / 3 = 0.13/3
    assert float(kto_reference_point(t(-2, -4, -1), t(-3, -5, -1), 0.11, 0.1)) == pytest.approx(0.13 / 3, abs=1e-12)
    # max(0, .): a negative mean clamps to 0
    assert float(kto_reference_point(t(-9.0), t(-8.0), 0.11, 0.1)) == 0.0


def test_kto_reference_point_carries_no_gradient():
    pkl = PKL.clone().requires_grad_()
    policy = POLICY.clone().requires_grad_()
    entropo_kto_loss(policy, REF, LABELS, pkl, RKL, 0.11, 0.1).loss.backward()
    assert pkl.grad is None
    assert policy.grad is not None and bool((policy.grad != 0).all())


def test_entropo_kto_code_form_by_hand():
    out = entropo_kto_loss(POLICY, REF, LABELS, PKL, RKL, alpha=0.11, beta=0.1)
    assert float(out.z0) == pytest.approx(0.07, abs=1e-12)
    # desirable: logratio 1 -> 1 - sigmoid(0.1*(1 - 0.07)) = 1 - sigmoid(0.093) = 0.4767667429566659
    # undesirable: logratio -1 -> 1 - sigmoid(0.1*(0.07 + 1)) = 1 - sigmoid(0.107) = 0.4732754925431517
    assert out.losses.tolist() == pytest.approx([0.4767667429566659, 0.4732754925431517], abs=1e-12)
    assert float(out.loss) == pytest.approx(0.47502111774990885, abs=1e-12)
    assert out.chosen_rewards.tolist() == pytest.approx([0.1])
    assert out.rejected_rewards.tolist() == pytest.approx([-0.1])


def test_entropo_kto_symmetric_form_by_hand():
    out = entropo_kto_loss(POLICY, REF, LABELS, PKL, RKL, alpha=0.11, beta=0.1, symmetric=True)
    # desirable: r = 0.11*-5 + 0.6 = 0.05 -> 1 - sigmoid(0.05 - 0.07) = 0.5049998333399996
    # undesirable: r = 0.11*-7 + 0.6 = -0.17 -> 1 - sigmoid(0.07 + 0.17) = 0.4402863507328071
    assert out.losses.tolist() == pytest.approx([0.5049998333399996, 0.4402863507328071], abs=1e-12)
    assert out.correct.tolist() == [False, True]


def test_kto_by_hand_and_symmetric_reduction():
    out = kto_loss(POLICY, REF, LABELS, PKL, RKL, beta=0.1)
    # z0 = mean(-2+3, -4+5) = 1; desirable 1 - sigmoid(0.1*(1-1)) = 0.5; undesirable 1 - sigmoid(0.1*2)
    assert float(out.z0) == pytest.approx(1.0)
    assert out.losses.tolist() == pytest.approx([0.5, 0.45016600268752205], abs=1e-12)
    symmetric = entropo_kto_loss(POLICY, REF, LABELS, PKL, RKL, alpha=0.1, beta=0.1, symmetric=True)
    assert torch.allclose(symmetric.losses, out.losses, atol=1e-12)
    code_form = entropo_kto_loss(POLICY, REF, LABELS, PKL, RKL, alpha=0.1, beta=0.1)
    assert not torch.allclose(code_form.losses, out.losses, atol=1e-6)  # its z0 is scaled by beta once more


def test_kto_weights():
    out = kto_loss(POLICY, REF, LABELS, PKL, RKL, beta=0.1, desirable_weight=2.0, undesirable_weight=0.5)
    assert out.losses.tolist() == pytest.approx([1.0, 0.5 * 0.45016600268752205], abs=1e-12)


def test_length_normalization():
    assert length_normalize(t(-300, -50), torch.tensor([100, 10])).tolist() == [-3.0, -5.0]
    assert length_normalize(t(-3.0), torch.tensor([0])).tolist() == [-3.0]  # no division by zero
    # 600 nats apart, (alpha - beta) * gap = 6 saturates; per token the logits stay small
    raw = entropo_dpo_loss(t(-1000), t(-1600), t(-1000), t(-1600), 0.11, 0.1)
    normed = entropo_dpo_loss(*(length_normalize(x, torch.tensor([400])) for x in
                                (t(-1000), t(-1600), t(-1000), t(-1600))), 0.11, 0.1)
    assert float(raw.logit_scale) == pytest.approx(6.0)
    assert float(normed.logit_scale) == pytest.approx(0.015)


def test_sft_loss_is_token_mean():
    # -(-2 - 6) / (1 + 3) = 2
    assert float(sft_loss(t(-2, -6), torch.tensor([1, 3]))) == pytest.approx(2.0)
