/** Adding up what model calls used: one rollout's calls, a batch's rollouts, a verifier's judgements. */
import type { Usage } from './types.js';

/** Nothing used yet. */
export function zeroUsage(): Usage {
  return { promptTokens: 0, completionTokens: 0, costUsd: 0 };
}

/** Adds `more` into `total` in place, and returns `total`. */
export function addUsage(total: Usage, more: Usage): Usage {
  total.promptTokens += more.promptTokens;
  total.completionTokens += more.completionTokens;
  total.costUsd += more.costUsd;
  return total;
}

/** The sum of `usages`; missing ones count as nothing. */
export function sumUsage(usages: readonly (Usage | undefined)[]): Usage {
  const total = zeroUsage();
  for (const u of usages) if (u) addUsage(total, u);
  return total;
}
