// Top-1 success of the selector on the SWE-bench Lite dev candidates (135 issues, 4-9 labelled patches each).
// Run: npx tsx bench/selectorDev.bench.ts [path/to/swebench-lite-candidates-dev.jsonl]
// Every figure is an exact expectation: where the selector (or a vote) ties between candidates, the pick is
// uniform among the tied ones, so no figure depends on the order of candidate ids.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { localVerifierFor } from '../src/core/verify/local/localVerifier.js';
import { select } from '../src/core/verify/select.js';
import { verifyCandidates } from '../src/core/verify/verifyCandidates.js';
import { normalizePatch } from '../src/core/worktree/diversity.js';

interface Row { instance_id: string; problem_statement: string; candidates: { id: string; patch: string; resolved: boolean }[] }

const DEFAULT_DATA = path.join(__dirname, '..', '..', 'shared', 'data', 'swebench-lite-candidates-dev.jsonl');
const file = process.argv[2] ?? DEFAULT_DATA;
if (!existsSync(file)) {
  console.error(`Data file not found: ${file}. Pass its path as the first argument.`);
  process.exit(2);
}
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rate = (ids: string[], row: Row) => mean(ids.map((id) => Number(row.candidates.find((c) => c.id === id)!.resolved)));

function majority(row: Row): number {
  const groups = new Map<string, string[]>();
  for (const c of row.candidates) {
    const key = normalizePatch(c.patch);
    groups.set(key, [...(groups.get(key) ?? []), c.id]);
  }
  const biggest = Math.max(...[...groups.values()].map((g) => g.length));
  return rate([...groups.values()].filter((g) => g.length === biggest).flat(), row);
}

async function staticSelector(row: Row): Promise<{ top: number; ms: number }> {
  const started = performance.now();
  const signals = await verifyCandidates(row.candidates.map((c) => ({ id: c.id, patch: c.patch })), {});
  const ranking = select(signals);
  const ms = performance.now() - started;
  // Candidates the selector cannot tell from its first pick: kept, with the same agreement score.
  const score = (id: string) => { const s = signals.find((x) => x.candidateId === id)!.signals.agreement; return s?.status === 'ok' ? s.score : 0; };
  const first = ranking.order[0];
  const tied = ranking.order.filter((id) => ranking.explanations[id].startsWith('kept') && score(id) === score(first));
  return { top: rate(tied, row), ms };
}

async function main() {
  const random = mean(rows.map((r) => rate(r.candidates.map((c) => c.id), r)));
  const oracle = mean(rows.map((r) => Number(r.candidates.some((c) => c.resolved))));
  const vote = mean(rows.map(majority));
  const results = [];
  for (const row of rows) results.push(await staticSelector(row));
  const selector = mean(results.map((r) => r.top));
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`Command: npx tsx bench/selectorDev.bench.ts  (${rows.length} issues, ${rows.reduce((n, r) => n + r.candidates.length, 0)} candidates)\n`);
  console.log('| picker | top-1 resolved | share of the random-to-oracle gap closed |');
  console.log('|---|---|---|');
  const gap = (x: number) => `${(((x - random) / (oracle - random)) * 100).toFixed(0)}%`;
  console.log(`| random pick | ${random.toFixed(3)} | 0% |`);
  console.log(`| majority vote (whitespace-normalized patches) | ${vote.toFixed(3)} | ${gap(vote)} |`);
  console.log(`| selector, static signals (validity, tree-sitter agreement) | ${selector.toFixed(3)} | ${gap(selector)} |`);
  console.log(`| oracle (any resolved candidate) | ${oracle.toFixed(3)} | 100% |`);
  console.log(`\nStatic verification + selection per issue: median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times.at(-1)!.toFixed(0)} ms`);
  await latency16();
}

/** Ranking latency for 16 candidates: static signals, the local ONNX model and the selector, per issue. */
async function latency16(): Promise<void> {
  const local = (row: Row) => localVerifierFor(row.problem_statement);
  await local(rows[0]).verify([{ id: 'warm', patch: rows[0].candidates[0].patch }]); // session creation, once per process
  const times: number[] = [];
  for (const row of rows) {
    const candidates = Array.from({ length: 16 }, (_, i) => ({ id: `c${i}`, patch: row.candidates[i % row.candidates.length].patch }));
    const started = performance.now();
    const signals = await verifyCandidates(candidates, { verifiers: [local(row)] });
    select(signals);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))].toFixed(1);
  console.log(`Ranking 16 candidates (static signals + local ONNX model + selector; candidates cycled to 16, session warm): p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${times.at(-1)!.toFixed(0)} ms over ${times.length} issues`);
}

void main();
