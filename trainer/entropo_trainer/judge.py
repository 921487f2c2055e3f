"""Turns labelled trajectories (entropo-kto lines) into supervised examples for the LLM-judge verifier.

The judge sees the issue, the agent's whole interaction log and the final patch, and answers
`<judgement>YES</judgement>` (accepted) or `<judgement>NO</judgement>`. The verifier scores a candidate by
P(YES) = e^lpYES / (e^lpYES + e^lpNO) at the judgement token, so it must send exactly this prompt: the
templates live in `prompts/judge_system.txt` and `prompts/judge_user.txt`. When the conversation exceeds
`max_length`, the longest observations are clipped first (keeping their head and tail), then the longest
assistant turns; the issue, the patch and the answer are never cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PROMPTS = Path(__file__).resolve().parent / "prompts"
YES, NO = "<judgement>YES</judgement>", "<judgement>NO</judgement>"
_MIN_CLIP = 256
_MAX_ROUNDS = 200


@dataclass
class JudgeConversation:
    """The judge's chat (system, user, assistant answer) and whether it had to be condensed."""

    messages: list[dict]
    condensed: bool


def _template(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


def render_call(call: dict) -> str:
    """A native tool call in the text action format, so the judge reads both formats alike."""
    try:
        args = json.loads(call["function"]["arguments"])
    except (json.JSONDecodeError, TypeError):
        args = {"arguments": call["function"]["arguments"]}
    if not isinstance(args, dict):
        args = {"arguments": args}
    params = "".join(f"<parameter={k}>{v if isinstance(v, str) else json.dumps(v)}</parameter>\n"
                     for k, v in args.items())
    return f"<function={call['function']['name']}>\n{params}</function>"


def _log_entries(completion: list[dict]) -> list[list[str]]:
    entries = []
    for message in completion:
        if message["role"] == "assistant":
            text = "\n".join([message["content"], *map(render_call, message.get("tool_calls", []))]).strip()
            entries.append(["ASSISTANT", text])
        else:
            entries.append(["OBSERVATION", message["content"]])
    return entries


def _clip(text: str) -> str:
    keep = max(len(text) // 4, 16)
    return f"{text[:keep]}\n[... {len(text) - 2 * keep} characters omitted ...]\n{text[-keep:]}"


def judge_messages(issue: str, entries: list[list[str]], patch: str, label: bool) -> list[dict]:
    """The judge conversation for one trajectory, with the answer as the assistant turn."""
    log = "\n\n".join(f"[{kind}]\n{text}" for kind, text in entries)
    user = _template("judge_user.txt").format(issue=issue, log=log, patch=patch or "(no patch recorded)")
    return [{"role": "system", "content": _template("judge_system.txt").strip()},
            {"role": "user", "content": user}, {"role": "assistant", "content": YES if label else NO}]


def build_judge_conversation(obj: dict, count_tokens: Callable[[list[dict]], int],
                             max_length: int | None) -> JudgeConversation | None:
    """Builds the judge chat of an entropo-kto line, condensed to fit `max_length`; None if it cannot fit."""
    issue = next(m["content"] for m in reversed(obj["prompt"]) if m["role"] == "user")
    patch = (obj.get("meta") or {}).get("patch", "")
    entries = _log_entries(obj["completion"])
    messages = judge_messages(issue, entries, patch, obj["label"])
    if max_length is None or count_tokens(messages) <= max_length:
        return JudgeConversation(messages, condensed=False)
    for _ in range(_MAX_ROUNDS):
        if not _clip_longest(entries):
            return None
        messages = judge_messages(issue, entries, patch, obj["label"])
        if count_tokens(messages) <= max_length:
            return JudgeConversation(messages, condensed=True)
    return None


def _clip_longest(entries: list[list[str]]) -> bool:
    for kind in ("OBSERVATION", "ASSISTANT"):
        candidates = [e for e in entries if e[0] == kind and len(e[1]) > _MIN_CLIP]
        if candidates:
            longest = max(candidates, key=lambda e: len(e[1]))
            longest[1] = _clip(longest[1])
            return True
    return False
