import { describe, expect, it } from 'vitest';
import { condense, estimateTokens } from '../../../src/core/agent/condense.js';
import type { Message } from '../../../src/core/types.js';

describe('condense', () => {
  const issue = 'ISSUE: '.padEnd(20_000, 'i');
  const history: Message[] = [
    { role: 'system', content: 'system prompt' },
    { role: 'user', content: issue },
    { role: 'assistant', content: 'view a' },
    { role: 'user', content: 'A'.repeat(30_000) },
    { role: 'assistant', content: 'view b' },
    { role: 'tool', toolCallId: 'x', content: 'B'.repeat(60_000) },
    { role: 'assistant', content: 'view c' },
    { role: 'user', content: 'C'.repeat(3_000) },
  ];

  it('returns the history unchanged when it fits', () => {
    expect(condense(history, 1_000_000, 0.25)).toEqual(history);
  });

  it('shortens the longest observations first and never the issue', () => {
    const budget = estimateTokens(history, 0.25) - 10_000; // needs about 40,000 characters removed
    const out = condense(history, budget, 0.25);
    expect(estimateTokens(out, 0.25)).toBeLessThanOrEqual(budget);
    expect(out[1].content).toBe(issue);
    expect(out[5].content).toMatch(/\[\.\.\. 58000 characters of this observation condensed to fit the context \.\.\.\]/);
    expect(out[3].content).toBe(history[3].content);
    expect(out[7].content).toBe(history[7].content);
    expect(history[5].content).toHaveLength(60_000);
  });

  it('goes on to the next longest when one is not enough, and stops when nothing is left', () => {
    const out = condense(history, 1_000, 0.25);
    expect(out[1].content).toBe(issue);
    expect(out[3].content).toMatch(/condensed/);
    expect(out[5].content).toMatch(/condensed/);
    expect(estimateTokens(out, 0.25)).toBeGreaterThan(1_000);
  });
});
