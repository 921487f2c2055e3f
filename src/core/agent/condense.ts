import type { Message } from '../types.js';

/** Characters kept at each end of a condensed observation. */
const KEEP_HEAD = 1500;
const KEEP_TAIL = 500;

/** Estimated tokens of a message list, given a measured or assumed tokens-per-character ratio. */
export function estimateTokens(messages: readonly Message[], tokensPerChar: number): number {
  let chars = 0;
  for (const m of messages) {
    chars += m.content.length + 16;
    for (const call of m.toolCalls ?? []) chars += call.name.length + call.arguments.length + 16;
  }
  return Math.ceil(chars * tokensPerChar);
}

/**
 * Returns a copy of `messages` that fits `budget` tokens by shortening the longest observations first.
 * The system prompt and the issue (the first two messages) are never touched. Deterministic for a given
 * history, so the context sent to the server changes as little as possible from one step to the next.
 */
export function condense(messages: readonly Message[], budget: number, tokensPerChar: number): Message[] {
  const out = messages.map((m) => ({ ...m }));
  const candidates = out
    .map((m, index) => ({ m, index }))
    .filter(({ m, index }) => index >= 2 && (m.role === 'tool' || m.role === 'user') && m.content.length > KEEP_HEAD + KEEP_TAIL + 200)
    .sort((a, b) => b.m.content.length - a.m.content.length || a.index - b.index);
  for (const { m } of candidates) {
    if (estimateTokens(out, tokensPerChar) <= budget) break;
    const cut = m.content.length - KEEP_HEAD - KEEP_TAIL;
    m.content = `${m.content.slice(0, KEEP_HEAD)}\n[... ${cut} characters of this observation condensed to fit the context ...]\n${m.content.slice(-KEEP_TAIL)}`;
  }
  return out;
}
