"""The chunked output-layer path gives the full-logits path's log-probs, entropies and gradients."""

import pytest
import torch
from conftest import synthetic_dpo

from entropo_trainer.data import Builder, Collator, build_examples
from entropo_trainer.forward import causal_mask, forward_stats
from entropo_trainer.logps import _LinearLogProbs, hidden_sequence_stats, sequence_stats
from entropo_trainer.model import load_model
from entropo_trainer.steps import MethodStep, concat_blocks


def _nonzero_adapter(model):
    for name, p in model.named_parameters():  # policy != reference, so that gradients are not trivial
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    return model


@pytest.fixture()
def pair_batch(tokenizer):
    lines = synthetic_dpo(3)
    lines[1]["chosen"] = lines[1]["chosen"][:1]  # rows of different lengths: right padding in the block
    examples, _ = build_examples("entropo-dpo", "entropo-dpo", lines, Builder(tokenizer, 4096))
    return Collator(tokenizer.pad_token_id)(examples)


def _grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}


@pytest.mark.parametrize("checkpointing", [False, True])
def test_chunked_and_full_logits_agree_on_a_tiny_model(tiny_model_dir, tokenizer, pair_batch, checkpointing):
    torch.manual_seed(0)
    model = _nonzero_adapter(load_model(tiny_model_dir, gradient_checkpointing=checkpointing))
    block = concat_blocks(pair_batch["chosen"], pair_batch["rejected"], tokenizer.pad_token_id)  # [6, T]
    assert causal_mask(block) is None and int(block["attention_mask"].sum()) < block["attention_mask"].numel()
    results = {}
    for chunked in (True, False):
        out = forward_stats(model, block, chunked=chunked)
        weights = torch.linspace(0.5, 1.5, out.stats.logps.numel())  # [B] a loss that weighs rows differently
        results[chunked] = out.stats, _grads(model, (weights * out.stats.logps).sum())
    (fast, fast_grads), (full, full_grads) = results[True], results[False]
    assert torch.equal(fast.n_tokens, full.n_tokens) and int(fast.n_tokens.min()) > 0
    assert torch.allclose(fast.logps, full.logps, atol=1e-5, rtol=1e-5)
    assert torch.allclose(fast.entropy_sum, full.entropy_sum, atol=1e-5, rtol=1e-5)
    assert float(fast.entropy_sum.min()) > 0
    assert fast_grads.keys() == full_grads.keys() and len(fast_grads) == 28
    for name in fast_grads:
        assert torch.allclose(fast_grads[name], full_grads[name], atol=1e-5, rtol=1e-5), name
    assert any(float(g.abs().sum()) > 0 for g in fast_grads.values())


def test_dpo_step_gives_the_same_loss_and_gradients_on_both_paths(tiny_model_dir, tokenizer, pair_batch):
    torch.manual_seed(0)
    model = _nonzero_adapter(load_model(tiny_model_dir, gradient_checkpointing=False))
    ref = {"chosen": torch.tensor([-40.0, -30.0, -35.0]), "chosen:n": torch.tensor([30, 20, 25]),
           "rejected": torch.tensor([-20.0, -25.0, -22.0]), "rejected:n": torch.tensor([15, 15, 15])}
    out = {}
    for chunked in (True, False):
        result = MethodStep("entropo-dpo", 0.11, 0.1, False, tokenizer.pad_token_id, chunked=chunked)(
            model, pair_batch, ref)
        out[chunked] = float(result.loss.detach()), result.metrics, _grads(model, result.loss)
    assert out[True][0] == pytest.approx(out[False][0], abs=1e-6)
    assert torch.allclose(out[True][1], out[False][1], atol=1e-4, equal_nan=True)
    for name, grad in out[True][2].items():
        assert torch.allclose(grad, out[False][2][name], atol=1e-5, rtol=1e-5), name


def test_small_chunks_match_the_reference_formula():
    torch.manual_seed(1)
    hidden = torch.randn(2, 9, 5, dtype=torch.float64, requires_grad=True)  # [B, T, D]
    weight = torch.randn(13, 5, dtype=torch.float64)  # [V, D]
    ids = torch.randint(0, 13, (2, 9))
    mask = torch.tensor([[0, 0, 1, 1, 1, 0, 1, 1, 1], [0, 1, 1, 1, 1, 1, 1, 0, 0]])
    fast = hidden_sequence_stats(hidden, weight, ids, mask, chunk=3)  # several chunks, one partial
    full = sequence_stats(hidden @ weight.t(), ids, mask)
    assert torch.allclose(fast.logps, full.logps, atol=1e-6)
    assert torch.allclose(fast.entropy_sum, full.entropy_sum, atol=1e-6)
    (g_fast,) = torch.autograd.grad(fast.logps.sum(), hidden)
    (g_full,) = torch.autograd.grad(full.logps.sum(), hidden)
    assert torch.allclose(g_fast, g_full, atol=1e-6)


def test_backward_is_the_exact_gradient_for_hidden_and_weight():
    torch.manual_seed(2)
    hidden = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)  # [N, D]
    weight = torch.randn(11, 4, dtype=torch.float64, requires_grad=True)  # [V, D]
    targets = torch.randint(0, 11, (7,))
    assert torch.autograd.gradcheck(lambda h, w: _LinearLogProbs.apply(h, w, targets, True, 3)[0],
                                    (hidden, weight))


def test_entropy_is_exact():
    torch.manual_seed(3)
    hidden, weight = torch.randn(5, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
    _, entropy = _LinearLogProbs.apply(hidden, weight, torch.zeros(5, dtype=torch.long), True, 2)
    p = torch.softmax((hidden @ weight.t()).double(), -1)  # [N, V]
    assert torch.allclose(entropy.double(), -(p * p.log()).sum(-1), atol=1e-6)


def test_a_model_whose_logits_are_not_its_output_layer_keeps_the_full_path(tiny_model_dir, tokenizer, pair_batch):
    torch.manual_seed(0)
    model = load_model(tiny_model_dir, gradient_checkpointing=False)
    block = pair_batch["chosen"]
    plain = forward_stats(model, block, chunked=False).stats
    # A final logit scale (as some architectures apply after the output layer) makes hidden @ W wrong
    model.get_output_embeddings().register_forward_hook(lambda _m, _i, out: out * 3.0)
    scaled_full = forward_stats(model, block, chunked=False).stats
    scaled_auto = forward_stats(model, block, chunked=True).stats
    assert torch.allclose(scaled_auto.logps, scaled_full.logps, atol=1e-5)
    assert not torch.allclose(scaled_full.logps, plain.logps, atol=1e-2)


def test_only_right_padding_drops_the_mask():
    right = {"attention_mask": torch.tensor([[1, 1, 1], [1, 1, 0]])}
    left = {"attention_mask": torch.tensor([[1, 1, 1], [0, 1, 1]])}
    assert causal_mask(right) is None
    assert torch.equal(causal_mask(left), left["attention_mask"])
