import type { FixReport } from '../core/pipeline/fixIssue.js';
import * as path from 'node:path';
import { shellQuote as quoteWord } from '../core/process/shellQuote.js';
import { untrainableExit } from '../core/store/decisions.js';
import { describeDiversity } from '../core/worktree/diversity.js';
import { patchLineCounts } from '../core/worktree/patchStats.js';

/**
 * The ranked candidates as a plain-text table, best first, each with the selector's explanation; the apply
 * command only when the outcome is ready, written to work from any folder.
 */
export function renderCandidates(report: FixReport, outDir: string, storeDir?: string): string {
  const { batch, candidates: ranked, ranking, outcome } = report;
  const header = ['rank', 'id', 'exit', 'steps', 'tokens', 'cost', 'files', '+/-', 'time'];
  const rows = ranked.map((c, i) => {
    const { added, removed } = patchLineCounts(c.patch);
    return [
      String(i + 1), c.id, c.exitReason, String(c.steps), String(c.usage.promptTokens + c.usage.completionTokens),
      `$${c.usage.costUsd.toFixed(4)}`, c.changedFiles.join(',') || '-', `+${added}/-${removed}`, `${(c.wallMs / 1000).toFixed(1)}s`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [
    line(header),
    ...rows.map(line),
    '',
    `Ranking (${ranking.mode}):`,
    ...ranked.map((c) => `  ${c.id}: ${c.explanation}`),
    ...(ranking.nearTie ? [`Close call: ${ranking.nearTie}.`] : []),
    ...(outcome.notes ?? []).map((note) => `Note: ${note}`),
    '',
    `Diversity: ${describeDiversity(batch.diversity, ranked.filter((c) => c.patch !== '').length)}`,
    `Total: ${batch.usage.promptTokens + batch.usage.completionTokens} tokens, $${batch.usage.costUsd.toFixed(4)}, ${(batch.wallMs / 1000).toFixed(1)}s${judged(report)}`,
    `Patches and trajectories: ${outDir}`,
    !storeDir ? 'Not recorded (--no-record).' : report.taskId ? `Recorded as task ${report.taskId} in ${storeDir}` : 'Not recorded: the preference store could not be written (see the note above).',
    // The repository's top level: run from a subfolder, `git apply` would skip the patch's other paths.
    outcome.recommended
      ? `Apply the best with: git -C ${shellQuote(batch.snapshot.root)} apply ${shellQuote(path.join(outDir, 'patches', `${outcome.recommended}.patch`))}`
      : `Nothing to apply: ${{ failed: 'no rollout produced a candidate', cancelled: 'the run was cancelled before its candidates were tested', ready: '', no_fit_candidate: 'no candidate is worth applying' }[outcome.kind]}.`,
    ...recordLine(report, outDir),
    '',
  ].join('\n');
}

/**
 * What the panel's Apply and Reject record, on the command line: the only way to make training data here.
 * Only candidates a decision is recorded for are offered (not one whose rollout failed or was stopped from
 * outside, see untrainableExit); none at all, no line.
 */
function recordLine(report: FixReport, outDir: string): string[] {
  if (!report.taskId || report.status !== 'complete') return [];
  const recordable = report.candidates.filter((c) => untrainableExit(c) === undefined);
  const applicable = recordable.filter((c) => c.patch.trim() !== '');
  if (recordable.length === 0) return [];
  const run = `--run ${shellQuote(outDir)}`;
  const apply = applicable.length === 0 ? [] : [`entropo apply ${report.outcome.recommended ?? applicable[0].id} ${run} (applies and records it)`];
  const which = recordable.length < report.candidates.length ? ` (recorded for ${recordable.map((c) => c.id).join(', ')} only)` : '';
  return [`Record your decision: ${[...apply, `entropo reject ID... ${run}`].join(', ')}${which}`];
}

// The judge's calls, when it was asked: they cost on top of the rollouts.
function judged(report: FixReport): string {
  const u = report.verifierUsage;
  return u && u.promptTokens > 0 ? `; the judge: ${u.promptTokens + u.completionTokens} tokens, $${u.costUsd.toFixed(4)}` : '';
}

// A path with spaces or quotes must survive being pasted into a shell.
function shellQuote(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : quoteWord(text);
}
