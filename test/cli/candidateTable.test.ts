/** The end of `entropo run`'s report: which decision commands it offers, for which candidates. */
import { describe, expect, it } from 'vitest';
import { renderCandidates } from '../../src/cli/candidateTable.js';
import type { FixReport } from '../../src/core/pipeline/fixIssue.js';
import type { ExitReason } from '../../src/core/types.js';

const PATCH = 'diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n';
const usage = { promptTokens: 10, completionTokens: 5, costUsd: 0 };

/** A complete, recorded run of candidates that ended as `exits` (an empty patch where none is given). */
function report(candidates: { id: string; exitReason: ExitReason; patch?: string; batchBudget?: true }[], recommended?: string): FixReport {
  return {
    batch: { snapshot: { root: '/repo' }, diversity: { distinct: 1, meanPairwiseSimilarity: 1 }, usage, wallMs: 1000 },
    candidates: candidates.map((c) => ({ steps: 3, usage, changedFiles: c.patch ? ['a.py'] : [], patch: '', wallMs: 500, explanation: 'ranked', ...c })),
    ranking: { mode: 'hybrid' },
    outcome: recommended ? { kind: 'ready', recommended } : { kind: 'no_fit_candidate' },
    taskId: 't1', status: 'complete',
  } as unknown as FixReport;
}

const lastLines = (r: FixReport) => renderCandidates(r, '/out', '/store').trimEnd().split('\n').slice(-2);

describe('the decision line of a run', () => {
  it('offers apply and reject where every candidate can be recorded', () => {
    expect(lastLines(report([{ id: 'r0', exitReason: 'submitted', patch: PATCH }, { id: 'r1', exitReason: 'submitted', patch: PATCH }], 'r1'))).toEqual([
      'Apply the best with: git -C /repo apply /out/patches/r1.patch',
      'Record your decision: entropo apply r1 --run /out (applies and records it), entropo reject ID... --run /out',
    ]);
  });

  it('names the candidates a decision is recorded for when some rollouts failed from outside', () => {
    const r = report([{ id: 'r0', exitReason: 'model_error', patch: PATCH }, { id: 'r1', exitReason: 'format_error', patch: PATCH }, { id: 'r2', exitReason: 'submitted', batchBudget: true }]);
    expect(lastLines(r)[1]).toBe('Record your decision: entropo apply r1 --run /out (applies and records it), entropo reject ID... --run /out (recorded for r1 only)');
  });

  it('offers only reject where no recordable candidate changes anything, and nothing where none can be recorded', () => {
    expect(lastLines(report([{ id: 'r0', exitReason: 'submitted' }, { id: 'r1', exitReason: 'crashed', patch: PATCH }]))[1])
      .toBe('Record your decision: entropo reject ID... --run /out (recorded for r0 only)');
    const none = report([{ id: 'r0', exitReason: 'model_error', patch: PATCH }, { id: 'r1', exitReason: 'cancelled' }]);
    expect(renderCandidates(none, '/out', '/store')).not.toMatch(/Record your decision/);
  });
});
