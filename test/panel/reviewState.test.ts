import { describe, expect, it } from 'vitest';
import { batchOutcome } from '../../src/core/pipeline/batchOutcome.js';
import type { FixReport } from '../../src/core/pipeline/fixIssue.js';
import type { Candidate } from '../../src/core/sampling/batchTypes.js';
import { rankCandidates } from '../../src/core/verify/rankCandidates.js';
import type { CandidateSignals } from '../../src/core/verify/signalTypes.js';
import { rankedReview, startReview } from '../../src/vscode/reviewState.js';

// reviewState.ts holds no `vscode` import: the panel's state is plain data, checked here on plain Node.
function candidate(id: string, patch: string, exitReason: Candidate['exitReason'] = 'submitted'): Candidate {
  return { id, patch, changedFiles: patch ? ['pager/core.py'] : [], exitReason, steps: 3,
    usage: { promptTokens: 1, completionTokens: 1, costUsd: 0 }, wallMs: 10, model: 'm', messages: [] };
}

describe('the review state carries the batch outcome', () => {
  it('marks unfit candidates and puts the outcome above the list', () => {
    const candidates = [candidate('r0', ''), candidate('r1', 'diff --git a/pager/core.py b/pager/core.py\n')];
    const signals: CandidateSignals[] = [
      { candidateId: 'r0', signals: { finished: { status: 'ok', score: 1, detail: 'finished' }, validity: { status: 'ok', score: 0, detail: 'empty patch' } } },
      { candidateId: 'r1', signals: { finished: { status: 'ok', score: 1, detail: 'finished' }, validity: { status: 'ok', score: 1, detail: '1 file(s)' } } },
    ];
    const { ranking, candidates: ranked } = rankCandidates(candidates, signals);
    const report = { batch: { diversity: { distinct: 1, meanPairwiseSimilarity: 1 }, usage: { promptTokens: 2, completionTokens: 2, costUsd: 0 }, wallMs: 20 },
      candidates: ranked, ranking, outcome: batchOutcome(ranked, ranking), verifierUsage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } } as unknown as FixReport;
    const state = rankedReview(startReview('run', 'Issue', 2), report, false);
    expect(state.outcome).toEqual({ kind: 'ready', summary: 'r1 is worth applying (1 of 2 candidates are fit)', recommended: 'r1' });
    expect(state.candidates.map((c) => [c.id, c.unfit])).toEqual([['r1', undefined], ['r0', 'empty: empty patch']]);
    // One patch, the other empty: nothing to compare, not a similarity of 1
    expect(state.diversity).toBe('1 patch, nothing to compare it with');
    expect(state.candidates.map((c) => c.untrainable)).toEqual([undefined, undefined]);
  });

  it('says which candidates no decision can make training data: a failed or cancelled rollout, not a malformed reply', () => {
    const exits = ['model_error', 'crashed', 'cancelled', 'format_error', 'limits_exceeded'] as const;
    const candidates = exits.map((exit, k) => candidate(`r${k}`, '', exit));
    const { ranking, candidates: ranked } = rankCandidates(candidates, candidates.map((c) => ({ candidateId: c.id, signals: {} })));
    const report = { batch: { diversity: { distinct: 0, meanPairwiseSimilarity: 0 }, usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 }, wallMs: 1 },
      candidates: ranked, ranking, outcome: batchOutcome(ranked, ranking), verifierUsage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } } as unknown as FixReport;
    const untrainable = Object.fromEntries(rankedReview(startReview('run', 'Issue', 5), report, false).candidates.map((c) => [c.id, c.untrainable]));
    expect(untrainable).toEqual({
      r0: expect.stringMatching(/^its rollout failed/), r1: expect.stringMatching(/^its rollout failed/),
      r2: 'its rollout was cancelled before it finished', r3: undefined, r4: undefined,
    });
  });

  it.each(['cancelled', 'failed'] as const)('a %s run offers no candidate for training, and says so', (status) => {
    const candidates = [candidate('r0', 'diff --git a/pager/core.py b/pager/core.py\n'), candidate('r1', '', status === 'failed' ? 'format_error' : 'cancelled')];
    const { ranking, candidates: ranked } = rankCandidates(candidates, candidates.map((c) => ({ candidateId: c.id, signals: {} })));
    const report = { batch: { diversity: { distinct: 1, meanPairwiseSimilarity: 0 }, usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 }, wallMs: 1 },
      candidates: ranked, ranking, outcome: batchOutcome(ranked, ranking, status === 'cancelled'), status,
      verifierUsage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } } as unknown as FixReport;
    const state = rankedReview(startReview('run', 'Issue', 2), report, status === 'cancelled');
    expect(state.status).toBe(status);
    expect(state.candidates.map((c) => c.untrainable)).toEqual([expect.stringMatching(new RegExp(`a ${status} run never becomes training data$`)), expect.any(String)]);
  });
});
