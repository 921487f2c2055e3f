/**
 * Preference store cost: appending task records of realistic size (4 candidates, 30 steps each, code-like
 * observations of 0.2-10 KB) with and without fsync, then reading, counting and exporting them in every
 * format. The two append variants alternate in blocks of 50 tasks so that load on a shared machine hits
 * both alike; each writes its own store.
 *
 *   npx tsx bench/store.bench.ts [--tasks 1000] [--steps 30] [--dir /tmp]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { EXPORT_FORMATS } from '../src/core/store/exportLines.js';
import { exportPreferences } from '../src/core/store/exportPreferences.js';
import { PreferenceStore } from '../src/core/store/preferenceStore.js';
import { syntheticTask } from '../test/core/store/syntheticTask.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const TASKS = Number(option('tasks', '1000'));
const STEPS = Number(option('steps', '30'));
const BLOCK = 50;

function storeBytes(dir: string): number {
  return readdirSync(dir).filter((n) => n.endsWith('.jsonl')).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

interface Variant {
  name: string;
  store: PreferenceStore;
  latencies: number[];
  ids: string[];
}

/** Appends TASKS tasks to each variant's store, alternating blocks; returns one table row per variant. */
async function appendPhase(variants: Variant[]): Promise<string[][]> {
  for (let block = 0; block < TASKS; block += BLOCK) {
    for (const v of variants) {
      for (let seed = block; seed < Math.min(TASKS, block + BLOCK); seed += 1) {
        const task = syntheticTask(seed, { steps: STEPS });
        const { ms, value } = await timed(() => v.store.appendTask(task));
        v.latencies.push(ms);
        v.ids.push(value);
      }
    }
  }
  return variants.map((v) => {
    const seconds = v.latencies.reduce((a, b) => a + b, 0) / 1000;
    return [`append task (${v.name})`, `${(TASKS / seconds).toFixed(1)} tasks/s`, `${(storeBytes(v.store.dir) / 2 ** 20 / seconds).toFixed(1)} MiB/s`,
      `p50 ${percentile(v.latencies, 0.5).toFixed(1)} ms, p95 ${percentile(v.latencies, 0.95).toFixed(1)} ms`];
  });
}

/** Records 3 decisions per task (r0 applied, r1 and r2 rejected), then reads, counts and exports the store. */
async function readPhase(store: PreferenceStore, ids: string[], root: string): Promise<string[][]> {
  const decide = await timed(async () => {
    for (const taskId of ids) {
      await store.appendDecision({ taskId, candidateId: 'r0', decision: 'applied' });
      await store.appendDecision({ taskId, candidateId: 'r1', decision: 'rejected' });
      await store.appendDecision({ taskId, candidateId: 'r2', decision: 'rejected' });
    }
  });
  const rows = [['append decision (fsync)', `${(3 * ids.length / (decide.ms / 1000)).toFixed(0)} decisions/s`, '', `mean ${(decide.ms / (3 * ids.length)).toFixed(2)} ms`]];
  const mib = storeBytes(store.dir) / 2 ** 20;
  const read = await timed(() => store.readAll().then((r) => r.tasks.length));
  rows.push(['readAll', `${(read.ms / 1000).toFixed(1)} s`, `${(mib / (read.ms / 1000)).toFixed(0)} MiB/s`, `${read.value} tasks`]);
  const stats = await timed(() => store.stats());
  rows.push(['stats', `${(stats.ms / 1000).toFixed(1)} s`, `${(mib / (stats.ms / 1000)).toFixed(0)} MiB/s`,
    `${stats.value.exportable.dpoPairs} pairs, ${stats.value.exportable.ktoExamples} examples`]);
  for (const format of EXPORT_FORMATS) {
    const out = join(root, `${format}.jsonl`);
    const exported = await timed(() => exportPreferences(store, { format, out }));
    rows.push([`export ${format}`, `${(exported.ms / 1000).toFixed(1)} s`, `${(statSync(out).size / 2 ** 20).toFixed(0)} MiB written`, `${exported.value.lines} lines`]);
    rmSync(out);
  }
  return rows;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(option('dir', os.tmpdir()), 'entropo-store-bench-'));
  const variants: Variant[] = [
    { name: 'fsync', store: PreferenceStore.open(join(root, 'fsync'), { env: {}, fsync: true }), latencies: [], ids: [] },
    { name: 'no fsync', store: PreferenceStore.open(join(root, 'nofsync'), { env: {}, fsync: false }), latencies: [], ids: [] },
  ];
  const load = os.loadavg()[0].toFixed(1);
  try {
    const rows = [...await appendPhase(variants), ...await readPhase(variants[0].store, variants[0].ids, root)];
    const recordKiB = storeBytes(variants[1].store.dir) / TASKS / 1024;
    process.stdout.write([
      `Command: npx tsx bench/store.bench.ts --tasks ${TASKS} --steps ${STEPS}`,
      `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average at start ${load}`,
      `Tasks: ${TASKS}, each 4 candidates x ${STEPS} steps; average task record ${recordKiB.toFixed(0)} KiB; store ${(storeBytes(variants[0].store.dir) / 2 ** 20).toFixed(0)} MiB with decisions`,
      '',
      '| operation | rate / time | throughput | detail |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
    ].join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
