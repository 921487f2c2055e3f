import { noActionLabel } from '../core/agent/runStep.js';
import type { FixEvent, FixReport } from '../core/pipeline/fixIssue.js';
import { untrainableExit, untrainableRun } from '../core/store/decisions.js';
import { sumUsage } from '../core/usage.js';
import { signalTone } from '../core/verify/signalTone.js';
import { summaryLine } from '../core/verify/summaryLine.js';
import { SIGNAL_NAMES, type UnfitReason } from '../core/verify/signalTypes.js';
import { describeDiversity } from '../core/worktree/diversity.js';
import { patchLineCounts } from '../core/worktree/patchStats.js';
import type { CandidateView, ReviewState } from '../protocol/messages.js';

// Candidates that made no real attempt: the panel folds them under "Not recommended".
const FOLDED = new Set<UnfitReason>(['empty', 'unfinished', 'invalid', 'cancelled', 'failed']);

/** The panel's state when a run starts. */
export function startReview(runId: string, issue: string, samples: number): ReviewState {
  return {
    runId, issueTitle: issue.trim().split('\n')[0].slice(0, 120) || 'Issue', status: 'running', candidates: [],
    rollouts: Array.from({ length: samples }, (_, k) => ({ id: `r${k}`, status: 'waiting', steps: 0 })),
  };
}

/** Folds one event of the job into the panel's state. */
export function reviewEvent(review: ReviewState, event: FixEvent): void {
  const rollout = 'runId' in event ? review.rollouts.find((r) => r.id === event.runId) : undefined;
  if (event.type === 'rollout_start' && rollout) rollout.status = 'running';
  else if (event.type === 'step' && rollout) {
    rollout.steps = event.step.index + 1;
    rollout.lastAction = event.step.action ? `${event.step.action.tool} ${String(event.step.action.args.command ?? event.step.action.args.cmd ?? event.step.action.args.search_term ?? '')}`.trim() : noActionLabel(event.step);
  } else if (event.type === 'rollout_end') {
    const r = review.rollouts.find((x) => x.id === event.candidate.id);
    if (r) Object.assign(r, { status: 'done', exitReason: event.candidate.exitReason, steps: event.candidate.steps });
  } else if (event.type === 'verify_start') review.status = 'verifying';
}

/** The panel's state once candidates are ranked. */
export function rankedReview(review: ReviewState, report: FixReport, cancelled: boolean): ReviewState {
  const candidates: CandidateView[] = report.candidates.map((c) => {
    const { added, removed } = patchLineCounts(c.patch);
    const untrainable = untrainableRun(report.status) ?? untrainableExit(c);
    return {
      id: c.id, rank: c.rank, exitReason: c.exitReason, steps: c.steps, tokens: c.usage.promptTokens + c.usage.completionTokens,
      costUsd: c.usage.costUsd, wallMs: c.wallMs, changedFiles: c.changedFiles, added, removed, explanation: c.explanation,
      summary: summaryLine(c.signals, report.ranking.verifier), ...(c.recommended ? { recommended: true } : {}),
      ...(c.unfit ? { unfit: `${c.unfit.reason.replace('_', ' ')}: ${c.unfit.detail}`, folded: FOLDED.has(c.unfit.reason) } : {}),
      ...(untrainable ? { untrainable } : {}),
      signals: SIGNAL_NAMES.filter((name) => c.signals[name]).map((name) => {
        const s = c.signals[name]!;
        const tone = signalTone(name, s);
        return s.status === 'ok' ? { name, status: 'ok', tone, score: s.score, detail: s.detail } : { name, status: 'unavailable', tone, detail: s.reason };
      }),
    };
  });
  const { batch } = report;
  const judge = report.verifierUsage;
  const total = sumUsage([batch.usage, judge]);
  return {
    ...review, candidates, status: cancelled ? 'cancelled' : report.status === 'failed' ? 'failed' : 'done', mode: report.ranking.mode,
    outcome: {
      kind: report.outcome.kind, summary: report.outcome.summary, ...(report.outcome.recommended ? { recommended: report.outcome.recommended } : {}),
      ...(report.ranking.nearTie ? { nearTie: report.ranking.nearTie } : {}), ...(report.outcome.notes?.length ? { notes: report.outcome.notes } : {}),
    },
    priced: report.candidates.some((c) => c.usage.costUsd > 0) || judge.costUsd > 0,
    diversity: describeDiversity(batch.diversity, report.candidates.filter((c) => c.patch !== '').length),
    totals: {
      tokens: total.promptTokens + total.completionTokens, costUsd: total.costUsd, wallMs: batch.wallMs,
      ...(judge.promptTokens > 0 ? { judgeTokens: judge.promptTokens + judge.completionTokens } : {}),
    },
  };
}
