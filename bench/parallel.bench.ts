// Parallel efficiency of best-of-N: 8 rollouts at once against one rollout alone, with a scripted model that
// takes 200 ms per call. Two workloads: light tools (views, searches, `git status`), where model latency
// dominates as it does with a real server; and the example's own script, whose Python runs compete for
// this machine's 2 cores.
// Run: npx tsx bench/parallel.bench.ts
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from '../src/core/agent/config.js';
import { formatTextAction } from '../src/core/llm/textFormat.js';
import { ScriptedModel } from '../src/core/llm/scriptedModel.js';
import { runBatch } from '../src/core/sampling/runBatch.js';
import { releaseSnapshot } from '../src/core/worktree/snapshot.js';

const ROOT = path.join(__dirname, '..');
const SCRIPT = path.join(ROOT, 'examples', 'pagination', 'scripted', 'fix-ceil.json');
const ROUNDS = 3;

// 20 steps, a typical short agent rollout: explore, edit, check, submit.
const LIGHT = [
  ...Array.from({ length: 6 }, (_, i) => [
    formatTextAction('search', { search_term: i % 2 ? 'page_count' : 'paginate' }),
    formatTextAction('file_editor', { command: 'view', path: 'pager/core.py', view_range: [1, 20 + i] }),
    formatTextAction('execute_bash', { cmd: 'git status --short' }),
  ]).flat(),
  formatTextAction('file_editor', { command: 'str_replace', path: 'pager/core.py', old_str: 'return total // per_page', new_str: 'return -(-total // per_page)' }),
  formatTextAction('finish', { command: 'submit' }),
].map((content) => ({ content: `thinking\n${content}` }));

// 20 steps with no subprocess at all: what the orchestration itself scales to.
const VIEWS = [
  ...Array.from({ length: 18 }, (_, i) => formatTextAction('file_editor', { command: 'view', path: 'pager/core.py', view_range: [1, 20 + (i % 10)] })),
  formatTextAction('file_editor', { command: 'str_replace', path: 'pager/core.py', old_str: 'return total // per_page', new_str: 'return -(-total // per_page)' }),
  formatTextAction('finish', { command: 'submit' }),
].map((content) => ({ content: `thinking\n${content}` }));

type Workload = 'views' | 'light' | 'example';

async function batchWall(repo: string, samples: number, workload: Workload): Promise<{ wall: number; rolloutWalls: number[] }> {
  const script = workload === 'example' ? await ScriptedModel.fromFile(SCRIPT, { delayMs: 200 })
    : new ScriptedModel(workload === 'light' ? LIGHT : VIEWS, { delayMs: 200 });
  const out = mkdtempSync(path.join(tmpdir(), 'entropo-bench-out-'));
  const started = performance.now();
  const result = await runBatch({ repoDir: repo, issue: 'The last page is lost.', samples, outDir: out,
    config: resolveConfig({ format: 'text' }), model: () => script.fork() });
  const wall = performance.now() - started;
  await releaseSnapshot(result.snapshot);
  rmSync(out, { recursive: true, force: true });
  if (result.candidates.some((c) => c.exitReason !== 'submitted')) throw new Error('a rollout did not submit');
  return { wall, rolloutWalls: result.candidates.map((c) => c.wallMs) };
}

async function main() {
  const repo = mkdtempSync(path.join(tmpdir(), 'entropo-bench-par-'));
  cpSync(path.join(ROOT, 'examples', 'pagination', 'repo'), repo, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-m', 'init');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`Command: npx tsx bench/parallel.bench.ts  (${cpus().length} cores, Node ${process.version})`);
  console.log(`Each rollout: model calls of 200 ms each plus its tools; the whole batch is timed (snapshot, worktrees,`);
  console.log(`patches and cleanup included); single and 8-wide batches alternate, median of ${ROUNDS}.\n`);
  console.log('| workload | 1 rollout | 8 at once | 8 x 1 rollout | speed-up | parallel efficiency |');
  console.log('|---|---|---|---|---|---|');
  const labels: Record<Workload, string> = {
    views: 'file views only, 20 steps (no subprocess)',
    light: 'views, search, git status, 20 steps',
    example: "example's fix-ceil script, 7 steps (Python runs)",
  };
  for (const workload of ['views', 'light', 'example'] as const) {
    await batchWall(repo, 1, workload); // warm-up
    const singles: number[] = [];
    const eights: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      singles.push((await batchWall(repo, 1, workload)).wall);
      eights.push((await batchWall(repo, 8, workload)).wall);
    }
    const one = median(singles);
    const eight = median(eights);
    console.log(`| ${labels[workload]} | ${(one / 1000).toFixed(2)} s | ${(eight / 1000).toFixed(2)} s | ${((8 * one) / 1000).toFixed(2)} s | ${((8 * one) / eight).toFixed(2)}x | ${(one / eight).toFixed(2)} |`);
  }
  rmSync(repo, { recursive: true, force: true });
}

void main();
