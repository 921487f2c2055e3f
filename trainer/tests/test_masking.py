"""Only assistant tokens count: the mask, observation invariance, truncation and template checks."""

import copy

import pytest
import torch
from conftest import fixture_lines, synthetic_dpo

from entropo_trainer.chat import TemplateError, assistant_spans, tokenize_conversation, usable
from entropo_trainer.data import Builder, Collator, _kl_partner, build_examples
from entropo_trainer.logps import sequence_stats
from entropo_trainer.model import load_model
from entropo_trainer.steps import MethodStep, reference_logps, to_device


def masked_text(tokenizer, seq):
    return tokenizer.decode([i for i, m in zip(seq.input_ids, seq.assistant_mask) if m])


def test_mask_covers_exactly_the_assistant_turns_text_format(tokenizer):
    line = fixture_lines("entropo-dpo.jsonl")[0]
    seq = tokenize_conversation(tokenizer, line["prompt"] + line["chosen"], 2)
    expected = "".join(m["content"] + "<|im_end|>\n" for m in line["chosen"] if m["role"] == "assistant")
    assert masked_text(tokenizer, seq) == expected
    assert seq.assistant_tokens == len(tokenizer(expected, add_special_tokens=False)["input_ids"])
    assert not seq.truncated
    assert tokenizer.decode(seq.input_ids) == tokenizer.apply_chat_template(line["prompt"] + line["chosen"],
                                                                            tokenize=False)


def test_mask_covers_tool_calls_but_not_observations_native_format(tokenizer):
    line = fixture_lines("entropo-dpo.jsonl")[1]
    seq = tokenize_conversation(tokenizer, line["prompt"] + line["chosen"], 2, tools=line["tools"])
    text = masked_text(tokenizer, seq)
    assert text.count("<tool_call>") == 7 and text.count("<|im_end|>") == 7
    assert '"arguments": {"search_term": "def chunked"}' in text
    for absent in ("<tool_response>", "Exit code", "<|im_start|>", "# Tools", "drops the trailing partial chunk"):
        assert absent not in text
    full = tokenizer.decode(seq.input_ids)
    assert full.count("<tool_response>") == 6 and "# Tools" in full


def test_prefix_unstable_template_is_refused(tokenizer):
    # Renders only the last assistant message in full, like templates that drop old reasoning
    template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n"
                "{% if m.role == 'assistant' and not loop.last %}[earlier turn]{% else %}{{ m.content }}{% endif %}"
                "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    line = fixture_lines("entropo-dpo.jsonl")[0]
    with pytest.raises(TemplateError, match="not prefix-stable at message 3 \\(user\\)"):
        assistant_spans(tokenizer, line["prompt"] + line["chosen"], chat_template=template)


def test_truncation_keeps_the_start_and_the_whole_prompt(tokenizer):
    line = fixture_lines("entropo-dpo.jsonl")[0]
    messages = line["prompt"] + line["chosen"]
    full = tokenize_conversation(tokenizer, messages, 2)
    cut = tokenize_conversation(tokenizer, messages, 2, max_length=full.prompt_tokens + 50)
    assert cut.truncated and len(cut.input_ids) == full.prompt_tokens + 50
    assert cut.input_ids == full.input_ids[: full.prompt_tokens + 50]
    assert cut.assistant_mask == full.assistant_mask[: full.prompt_tokens + 50]
    assert 0 < cut.assistant_tokens < full.assistant_tokens
    assert usable(cut, full.prompt_tokens + 50) is None
    too_short = tokenize_conversation(tokenizer, messages, 2, max_length=full.prompt_tokens - 1)
    assert "prompt alone has" in usable(too_short, full.prompt_tokens - 1)


def test_examples_whose_prompt_fills_max_length_are_skipped_and_counted(tokenizer):
    lines = fixture_lines("entropo-dpo.jsonl")  # the text prompt is shorter than the tools prompt
    chosen, rejected = (tokenize_conversation(tokenizer, lines[0]["prompt"] + lines[0][k], 2) for k in ("chosen", "rejected"))
    # The two rollouts begin with the same turn: cut a little after they part
    apart = next(i for i, (a, b) in enumerate(zip(chosen.input_ids, rejected.input_ids)) if a != b)
    assert apart > chosen.prompt_tokens
    examples, stats = build_examples("entropo-dpo", "entropo-dpo", lines, Builder(tokenizer, apart + 5))
    assert stats.examples == 1 and sum(stats.skipped.values()) == 1 and stats.truncated == 1
    assert len(examples[0].sequences["chosen"].input_ids) == apart + 5


def test_pairs_whose_chosen_and_rejected_are_the_same_tokens_are_skipped_and_counted(tokenizer):
    same, same_once_cut, different = synthetic_dpo(3)
    same["rejected"] = same["chosen"]
    # The same first turn, then apart: the same tokens once cut inside that turn
    same_once_cut["rejected"] = [same_once_cut["chosen"][0], {"role": "user", "content": "Execution output: none"},
                                 {"role": "assistant", "content": "Giving up."}]
    prompt = tokenize_conversation(tokenizer, same_once_cut["prompt"] + same_once_cut["chosen"], 2).prompt_tokens
    examples, stats = build_examples("entropo-dpo", "entropo-dpo", [same, same_once_cut, different],
                                     Builder(tokenizer, prompt + 6))
    assert stats.examples == 1 and len(examples) == 1
    assert dict(stats.skipped) == {"chosen and rejected are the same tokens": 1,
                                   "chosen and rejected are the same tokens once cut to --max-length": 1}
    uncut, _ = build_examples("entropo-dpo", "entropo-dpo", [same_once_cut, different], Builder(tokenizer, 4096))
    assert len(uncut) == 2


def test_kto_reference_samples_pair_a_prompt_with_another_tasks_completion():
    lines = [dict(line, task_id=f"t{i // 2}") for i, line in enumerate(fixture_lines("entropo-kto.jsonl") * 2)]
    for i in range(len(lines)):
        j = _kl_partner(i, lines)
        assert lines[j]["task_id"] != lines[i]["task_id"]
        assert lines[j]["action_format"] == lines[i]["action_format"]


def _dpo_loss_and_grads(model, tokenizer, lines):
    examples, _ = build_examples("entropo-dpo", "entropo-dpo", lines, Builder(tokenizer, 4096))
    batch = to_device(Collator(tokenizer.pad_token_id)(examples), "cpu")
    ref = {}
    for name in ("chosen", "rejected"):
        ref[name], ref[name + ":n"] = reference_logps(model, batch[name])
    model.zero_grad()
    result = MethodStep("entropo-dpo", 0.11, 0.1, False, tokenizer.pad_token_id)(model, batch, ref)
    result.loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return float(result.loss.detach()), grads


def test_observation_tokens_change_neither_loss_nor_gradients(tiny_model_dir, tokenizer):
    torch.manual_seed(0)
    model = load_model(tiny_model_dir, gradient_checkpointing=False)
    for name, p in model.named_parameters():  # a non-zero adapter so that policy != reference
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    base = synthetic_dpo(2)
    for line in base:  # a trajectory may end on an observation (the last command's output)
        line["chosen"].append({"role": "user", "content": "Execution output of [execute_bash]:\n3 passed"})
    other = copy.deepcopy(base)
    for line in other:
        line["chosen"][-1]["content"] = "Execution output of [execute_bash]:\nTraceback: a much longer failure"
    loss_a, grads_a = _dpo_loss_and_grads(model, tokenizer, base)
    loss_b, grads_b = _dpo_loss_and_grads(model, tokenizer, other)
    assert loss_a == pytest.approx(loss_b, abs=1e-7)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) == 28
    assert all(torch.allclose(grads_a[k], grads_b[k], atol=1e-7) for k in grads_a)
    assert any(float(g.abs().sum()) > 0 for g in grads_a.values())
    changed = copy.deepcopy(base)  # the same edit to an assistant turn does change them
    changed[0]["chosen"][2]["content"] = "Fix: return a - b.\n<function=finish>\n</function>"
    loss_c, _ = _dpo_loss_and_grads(model, tokenizer, changed)
    assert abs(loss_c - loss_a) > 1e-5


def test_targets_under_masked_positions_are_ignored():
    torch.manual_seed(0)
    logits = torch.randn(1, 6, 11)  # [B, T, V]
    ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
    mask = torch.tensor([[0, 0, 1, 1, 0, 1]])
    other = ids.clone()
    other[0, [0, 1, 4]] = torch.tensor([9, 9, 9])  # only masked-out tokens differ
    a, b = sequence_stats(logits, ids, mask), sequence_stats(logits, other, mask)
    assert torch.equal(a.logps, b.logps) and a.n_tokens.tolist() == [3]
    by_hand = sum(float(torch.log_softmax(logits[0, p - 1], -1)[ids[0, p]]) for p in (2, 3, 5))
    assert float(a.logps[0]) == pytest.approx(by_hand, abs=1e-5)
    probs = torch.softmax(logits[0, [1, 2, 4]], -1)
    assert float(a.entropy_sum[0]) == pytest.approx(float(-(probs * probs.log()).sum()), abs=1e-5)
