/**
 * Latency of the local verifier: loading onnxruntime-node and creating the session (once per process), then
 * ranking 16 candidates (feature extraction + one batched ONNX run) for every issue of the dev set, its real
 * candidates cycled up to 16 (the multi-megabyte patch included).
 *
 *   npx tsx bench/verifier/latency.ts [--input ../shared/data/swebench-lite-candidates-dev.jsonl] [--candidates 16] [--rounds 3]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FEATURE_NAMES, instanceFeatures } from '../../src/core/verify/local/features.js';
import { loadModel, localVerifier, type LocalCandidate } from '../../src/core/verify/local/localVerifier.js';
import { modelLocation } from '../../src/core/verify/local/modelLocation.js';

interface Issue {
  instance_id: string;
  problem_statement: string;
  candidates: Array<{ id: string; patch: string }>;
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function describe(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${label}: p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p95 ${quantile(sorted, 0.95).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms (${samples.length} runs)`;
}

async function sessionCosts(): Promise<string[]> {
  const require = createRequire(__filename);
  let t0 = performance.now();
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const requireMs = performance.now() - t0;
  t0 = performance.now();
  const loaded = await loadModel();
  const firstLoadMs = performance.now() - t0;
  if (!loaded.ok) throw new Error(loaded.reason);
  const location = modelLocation();
  const creates: number[] = [];
  for (let i = 0; i < 10 && location.found; i++) {
    t0 = performance.now();
    const session = await ort.InferenceSession.create(location.file, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
    creates.push(performance.now() - t0);
    await session.release();
  }
  return [
    `require('onnxruntime-node'): ${requireMs.toFixed(1)} ms`,
    `first loadModel (session creation + checks, runtime already required): ${firstLoadMs.toFixed(1)} ms`,
    describe('InferenceSession.create, repeated', creates),
  ];
}

async function main(): Promise<void> {
  const input = option('input', '../shared/data/swebench-lite-candidates-dev.jsonl');
  const count = Number(option('candidates', '16'));
  const rounds = Number(option('rounds', '3'));
  const issues = readFileSync(input, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Issue);
  const report = await sessionCosts();
  const ranking: number[] = [];
  const featuresOnly: number[] = [];
  let slowest = { id: '', ms: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const issue of issues) {
      const candidates: LocalCandidate[] = Array.from({ length: count }, (_, i) => ({ id: `r${i}`, patch: issue.candidates[i % issue.candidates.length].patch }));
      let t0 = performance.now();
      instanceFeatures(issue.problem_statement, candidates.map((c) => c.patch));
      featuresOnly.push(performance.now() - t0);
      t0 = performance.now();
      const scores = await localVerifier(issue.problem_statement, candidates);
      const ms = performance.now() - t0;
      if (scores.size !== count || [...scores.values()].some((s) => s.status !== 'ok')) throw new Error(`no scores for ${issue.instance_id}`);
      ranking.push(ms);
      if (round === rounds - 1 && ms > slowest.ms) slowest = { id: issue.instance_id, ms };
    }
  }
  report.push(
    describe(`features only, ${count} candidates x ${FEATURE_NAMES.length} features`, featuresOnly),
    describe(`ranking ${count} candidates (features + ONNX run)`, ranking),
    `slowest issue in the last round: ${slowest.id} ${slowest.ms.toFixed(1)} ms`,
  );
  process.stdout.write(report.join('\n') + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
