"""Builds tokenized training examples for each method from exported lines, and collates them into batches."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import torch

from .chat import Tokenized, tokenize_conversation, usable
from .formats import DataError
from .judge import NO, YES, build_judge_conversation

#: Which export formats each training method reads.
METHOD_FORMATS = {
    "entropo-dpo": ("entropo-dpo", "trl-dpo"),
    "dpo": ("entropo-dpo", "trl-dpo"),
    "entropo-kto": ("entropo-kto", "trl-kto"),
    "kto": ("entropo-kto", "trl-kto"),
    "judge": ("entropo-kto",),
}


@dataclass
class Example:
    """One training example: named token sequences, plus the label (KTO, judge) and the judge's answer slot."""

    index: int
    sequences: dict[str, Tokenized]
    label: bool | None = None
    judge_slot: tuple[int, int, int] | None = None  # (position of the YES/NO token, YES id, NO id)


@dataclass
class BuildStats:
    """What happened to the input lines while building examples."""

    lines: int = 0
    examples: int = 0
    truncated: int = 0
    condensed: int = 0
    skipped: Counter = field(default_factory=Counter)


class Builder:
    """Tokenizes lines with one tokenizer, template and length limit."""

    def __init__(self, tokenizer, max_length: int | None, chat_template: str | None = None):
        self.tokenizer, self.max_length, self.chat_template = tokenizer, max_length, chat_template

    def conversation(self, prompt: list[dict], continuation: list[dict], tools) -> Tokenized:
        """Tokenizes prompt + continuation with the assistant mask, cut to max_length."""
        return tokenize_conversation(self.tokenizer, prompt + continuation, len(prompt), tools=tools,
                                     chat_template=self.chat_template, max_length=self.max_length)

    def count_tokens(self, messages: list[dict]) -> int:
        """Tokens of a rendered conversation."""
        text = self.tokenizer.apply_chat_template(messages, chat_template=self.chat_template, tokenize=False)
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


def _tools(obj: dict):
    # Text-format prompts describe their tools in the system message; passing specs would add a second,
    # native description the model never saw at inference
    return None if obj.get("action_format") == "text" else obj.get("tools")


def _kl_partner(i: int, objects: Sequence[dict]) -> int:
    """The example whose completion is paired with prompt i for KTO's mismatched reference samples."""
    n = len(objects)
    for step in range(1, n):
        j = (i + step) % n
        if objects[j].get("task_id", j) != objects[i].get("task_id", i) and \
                objects[j].get("action_format") == objects[i].get("action_format"):
            return j
    return (i + 1) % n


def _pair(builder: Builder, i: int, obj: dict, objects: Sequence[dict]) -> Example:
    tools = _tools(obj)
    if "chosen" in obj:
        return Example(i, {"chosen": builder.conversation(obj["prompt"], obj["chosen"], tools),
                           "rejected": builder.conversation(obj["prompt"], obj["rejected"], tools)})
    partner = objects[_kl_partner(i, objects)]
    return Example(i, {"completion": builder.conversation(obj["prompt"], obj["completion"], tools),
                       "kl": builder.conversation(obj["prompt"], partner["completion"], tools)},
                   label=obj["label"])


def _judge(builder: Builder, i: int, obj: dict, stats: BuildStats) -> Example | None:
    convo = build_judge_conversation(obj, builder.count_tokens, builder.max_length)
    if convo is None:
        stats.skipped["judge prompt cannot be condensed below --max-length"] += 1
        return None
    stats.condensed += convo.condensed
    seq = tokenize_conversation(builder.tokenizer, convo.messages, 2, chat_template=builder.chat_template)
    other = [*convo.messages[:2], {"role": "assistant", "content": NO if obj["label"] else YES}]
    alt = tokenize_conversation(builder.tokenizer, other, 2, chat_template=builder.chat_template)
    slot = next(p for p, (a, b) in enumerate(zip(seq.input_ids, alt.input_ids)) if a != b)
    yes_id, no_id = (seq.input_ids[slot], alt.input_ids[slot]) if obj["label"] else \
        (alt.input_ids[slot], seq.input_ids[slot])
    return Example(i, {"target": seq}, label=obj["label"], judge_slot=(slot, yes_id, no_id))


def _same_pair(example: Example, obj: dict) -> list[str]:
    """Why a pair teaches nothing: chosen and rejected are the same tokens (given so, or once cut to --max-length).

    Its loss is log 2 with a gradient of exactly 0 whatever the weights; trained on, it would only dilute the
    batch it lands in and count as a pair that was learned from.
    """
    chosen, rejected = example.sequences.get("chosen"), example.sequences.get("rejected")
    if chosen is None or rejected is None:
        return []
    if chosen.input_ids != rejected.input_ids or chosen.assistant_mask != rejected.assistant_mask:
        return []
    cut = obj.get("chosen") != obj.get("rejected")
    return ["chosen and rejected are the same tokens" + (" once cut to --max-length" if cut else "")]


def build_examples(method: str, format_name: str, objects: Sequence[dict], builder: Builder) -> tuple[list[Example], BuildStats]:
    """Tokenizes every line for `method`; lines that cannot be trained on are skipped and counted."""
    if format_name not in METHOD_FORMATS[method]:
        raise DataError(f"method {method!r} needs {' or '.join(METHOD_FORMATS[method])} data, got {format_name}")
    stats = BuildStats(lines=len(objects))
    examples: list[Example] = []
    for i, obj in enumerate(objects):
        example = _judge(builder, i, obj, stats) if method == "judge" else _pair(builder, i, obj, objects)
        if example is None:
            continue
        reasons = [r for r in (usable(s, builder.max_length) for s in example.sequences.values()) if r]
        reasons += _same_pair(example, obj)
        if reasons:
            stats.skipped[reasons[0]] += 1
            continue
        stats.truncated += any(s.truncated for s in example.sequences.values())
        example.index = len(examples)
        examples.append(example)
    stats.examples = len(examples)
    if not examples:
        detail = "; ".join(f"{n} x {why}" for why, n in stats.skipped.items()) or "no lines"
        raise DataError(f"no usable training examples ({detail})")
    return examples, stats


def pad_sequences(seqs: Sequence[Tokenized], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pads sequences into `input_ids`, `attention_mask` and `loss_mask`, each [B, T]."""
    width = max(len(s.input_ids) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)  # [B, T]
    attention = torch.zeros((len(seqs), width), dtype=torch.long)  # [B, T]
    loss_mask = torch.zeros((len(seqs), width), dtype=torch.long)  # [B, T]
    for row, s in enumerate(seqs):
        n = len(s.input_ids)
        ids[row, :n] = torch.tensor(s.input_ids)
        attention[row, :n] = 1
        loss_mask[row, :n] = torch.tensor(s.assistant_mask)
    return {"input_ids": ids, "attention_mask": attention, "loss_mask": loss_mask}


class Collator:
    """Collates examples: one padded block per sequence name, plus indices, labels and judge slots."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples: Sequence[Example]) -> dict:
        batch: dict = {name: pad_sequences([e.sequences[name] for e in examples], self.pad_id)
                       for name in examples[0].sequences}
        batch["index"] = torch.tensor([e.index for e in examples])  # [B]
        if examples[0].label is not None:
            batch["label"] = torch.tensor([bool(e.label) for e in examples])  # [B]
        if examples[0].judge_slot is not None:
            batch["judge_slot"] = torch.tensor([e.judge_slot for e in examples])  # [B, 3]
        return batch
