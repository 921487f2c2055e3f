import type { BatchResult } from '../core/sampling/batchTypes.js';
import { patchLineCounts } from '../core/worktree/patchStats.js';

/** The batch as a plain-text table, one candidate per row, with diversity and where the files went. */
export function renderCandidates(result: BatchResult, outDir: string): string {
  const header = ['id', 'exit', 'steps', 'tokens', 'cost', 'files', '+/-', 'time'];
  const rows = result.candidates.map((c) => {
    const { added, removed } = patchLineCounts(c.patch);
    return [
      c.id, c.exitReason, String(c.steps), String(c.usage.promptTokens + c.usage.completionTokens),
      `$${c.usage.costUsd.toFixed(4)}`, c.changedFiles.join(',') || '-', `+${added}/-${removed}`, `${(c.wallMs / 1000).toFixed(1)}s`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  const d = result.diversity;
  return [
    line(header),
    ...rows.map(line),
    '',
    `Diversity: ${d.distinct} distinct patches of ${result.candidates.filter((c) => c.patch).length}, mean pairwise similarity ${d.meanPairwiseSimilarity.toFixed(2)}`,
    `Total: ${result.usage.promptTokens + result.usage.completionTokens} tokens, $${result.usage.costUsd.toFixed(4)}, ${(result.wallMs / 1000).toFixed(1)}s`,
    `Patches and trajectories: ${outDir}`,
    `Apply one with: git apply ${outDir}/patches/<id>.patch`,
    '',
  ].join('\n');
}
