"""Renders whole multi-turn conversations with the model's chat template and marks the assistant tokens.

Only tokens that the model itself produced count in log pi(t): the content of every assistant turn and the
end-of-turn marker the template writes after it (so the model learns to stop). The template's assistant
header (`<|im_start|>assistant\\n` and the like) is given at inference by `add_generation_prompt`, so it
is masked, as are system, user and tool-observation tokens.

Technique: render growing prefixes of the conversation as text. For an assistant message k, the span it
adds is render(m[:k+1]) minus render(m[:k], add_generation_prompt=True). This only works when every
rendering is a prefix of the next one; that is checked for every message, and a template that rewrites
earlier turns (some "thinking" templates drop old reasoning) is refused with `TemplateError`, naming the
turn. The full text is then tokenized once with character offsets, and a token counts when it starts
inside an assistant span. Rendering text prefixes (rather than tokenizing every prefix) keeps the cost to
one tokenization per conversation and avoids false alarms from merges at turn boundaries.

Truncation policy: a sequence longer than `max_length` keeps its first `max_length` tokens (the prompt
and the earliest turns) and drops the rest. Every scored token is then still conditioned on the history
that really preceded it, so log pi(t) is the log-probability of a real trajectory prefix; dropping early
turns instead would score late turns in a context that never happened. This matches how the EntroPO
authors cut their data (12k tokens for DPO, 18k for KTO) and TRL's default `keep_start`. A prompt that
alone fills `max_length`, or a sequence left without assistant tokens, is skipped and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from .formats import DataError


class TemplateError(DataError):
    """The chat template cannot be used to mark assistant turns (it is not prefix-stable)."""


@dataclass
class Tokenized:
    """One rendered conversation: token ids, the assistant mask, and how much was cut."""

    input_ids: list[int]
    assistant_mask: list[int]
    prompt_tokens: int
    truncated: bool

    @property
    def assistant_tokens(self) -> int:
        """Number of scored (assistant) tokens."""
        return sum(self.assistant_mask)


def template_messages(messages: Sequence[dict]) -> list[dict]:
    """Copies OpenAI messages into the shape chat templates expect: tool-call arguments as objects."""
    out = []
    for message in messages:
        copy = {"role": message["role"], "content": message["content"]}
        if message.get("tool_calls"):
            copy["tool_calls"] = [_template_call(call) for call in message["tool_calls"]]
        if message.get("tool_call_id"):
            copy["tool_call_id"] = message["tool_call_id"]
        out.append(copy)
    return out


def _template_call(call: dict) -> dict:
    # Templates iterate `arguments` as a mapping; invalid JSON that the model emitted stays a string
    try:
        arguments: Any = json.loads(call["function"]["arguments"])
    except (json.JSONDecodeError, TypeError):
        arguments = call["function"]["arguments"]
    return {"id": call["id"], "type": "function",
            "function": {"name": call["function"]["name"], "arguments": arguments}}


def _render(tokenizer, messages, tools, chat_template, add_generation_prompt: bool) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(
        messages, tools=tools or None, chat_template=chat_template, tokenize=False,
        add_generation_prompt=add_generation_prompt)


def assistant_spans(tokenizer, messages: Sequence[dict], tools=None, chat_template=None) -> tuple[str, list[tuple[int, int]]]:
    """Renders the conversation and returns (text, character spans written for assistant messages)."""
    messages = template_messages(messages)
    spans, previous = [], ""
    for k, message in enumerate(messages):
        is_assistant = message["role"] == "assistant"
        before = _render(tokenizer, messages[:k], tools, chat_template, add_generation_prompt=is_assistant)
        after = _render(tokenizer, messages[: k + 1], tools, chat_template, add_generation_prompt=False)
        if not before.startswith(previous) or not after.startswith(before):
            raise TemplateError(
                f"the chat template is not prefix-stable at message {k} ({message['role']}): rendering the "
                f"conversation up to that message changes text rendered for earlier messages, so assistant "
                f"tokens cannot be located. Pass --chat-template with a template that renders every turn the "
                f"same way whatever follows it")
        if is_assistant and len(after) > len(before):
            spans.append((len(before), len(after)))
        previous = after
    return previous, spans


def tokenize_conversation(tokenizer, messages: Sequence[dict], prompt_len: int, tools=None, chat_template=None,
                          max_length: int | None = None) -> Tokenized:
    """Tokenizes a conversation whose first `prompt_len` messages are the prompt, with the assistant mask."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError("the tokenizer has no fast (Rust) implementation; character offsets are needed to mark "
                        "assistant tokens")
    text, spans = assistant_spans(tokenizer, messages, tools, chat_template)
    prompt_text = _render(tokenizer, template_messages(messages[:prompt_len]), tools, chat_template, True)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoding["input_ids"], encoding["offset_mapping"]
    mask = [0] * len(ids)
    span_index = 0
    prompt_tokens = 0
    for i, (start, _end) in enumerate(offsets):
        if start < len(prompt_text):
            prompt_tokens = i + 1
        while span_index < len(spans) and start >= spans[span_index][1]:
            span_index += 1
        if span_index < len(spans) and spans[span_index][0] <= start < spans[span_index][1]:
            mask[i] = 1
    truncated = max_length is not None and len(ids) > max_length
    if truncated:
        ids, mask = ids[:max_length], mask[:max_length]
    return Tokenized(input_ids=list(ids), assistant_mask=mask, prompt_tokens=prompt_tokens, truncated=truncated)


def usable(seq: Tokenized, max_length: int | None) -> str | None:
    """Why a tokenized sequence cannot be trained on, or None when it can."""
    if max_length is not None and seq.prompt_tokens >= max_length:
        return f"prompt alone has {seq.prompt_tokens} tokens, not below --max-length {max_length}"
    if seq.assistant_tokens == 0:
        return "no assistant tokens left after truncation"
    return None
