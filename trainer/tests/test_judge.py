"""The judge's supervised examples: prompt content, condensation to fit, and the YES/NO answer slot."""

from conftest import fixture_lines

from entropo_trainer.data import Builder, build_examples
from entropo_trainer.judge import NO, YES, build_judge_conversation


def test_judge_prompt_holds_issue_log_and_patch_in_both_action_formats():
    lines = fixture_lines("entropo-kto.jsonl")
    for line in lines:
        convo = build_judge_conversation(line, lambda m: 0, max_length=None)
        system, user, answer = convo.messages
        assert system["role"] == "system" and "<judgement>YES</judgement>" in system["content"]
        assert "chunked() drops the trailing partial chunk" in user["content"]
        assert user["content"].count("[ASSISTANT]") == sum(m["role"] == "assistant" for m in line["completion"])
        assert "<function=finish>" in user["content"]  # native calls are shown in the text format too
        assert line["meta"]["patch"] in user["content"]
        assert answer == {"role": "assistant", "content": YES if line["label"] else NO}
        assert not convo.condensed


def test_condensing_clips_the_longest_observation_first_and_keeps_issue_and_patch():
    line = fixture_lines("entropo-kto.jsonl")[0]
    chars = lambda messages: sum(len(m["content"]) for m in messages)  # noqa: E731 - a token count stand-in
    limit = chars(build_judge_conversation(line, chars, None).messages) - 300
    convo = build_judge_conversation(line, chars, limit)
    text = convo.messages[1]["content"]
    assert convo.condensed and sum(len(m["content"]) for m in convo.messages) <= limit
    assert text.count("characters omitted") == 1
    assert "cat -n` on /repo/src/listkit/chunks.py:\n     1" in text  # the file view was the longest
    assert line["meta"]["patch"] in text and "chunked() drops the trailing partial chunk" in text
    assert build_judge_conversation(line, lambda m: 10**9, 100) is None


def test_answer_slot_points_at_the_token_that_differs_between_yes_and_no(tokenizer):
    lines = fixture_lines("entropo-kto.jsonl")
    examples, stats = build_examples("judge", "entropo-kto", lines, Builder(tokenizer, 8192))
    assert stats.examples == 4 and sum(stats.skipped.values()) == 0
    for example, line in zip(examples, lines):
        slot, yes_id, no_id = example.judge_slot
        seq = example.sequences["target"]
        assert yes_id != no_id and seq.assistant_mask[slot] == 1
        assert seq.input_ids[slot] == (yes_id if line["label"] else no_id)
        assert tokenizer.decode(seq.input_ids[:slot]).endswith("<judgement>")
        assert tokenizer.decode([i for i, m in zip(seq.input_ids, seq.assistant_mask) if m]) == \
            (YES if line["label"] else NO) + "<|im_end|>\n"
