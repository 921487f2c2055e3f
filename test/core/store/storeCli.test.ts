import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportCommand } from '../../../src/cli/exportCommand.js';
import { statsCommand } from '../../../src/cli/statsCommand.js';
import { UsageError } from '../../../src/cli/usageError.js';
import { PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import { defaultStoreDir } from '../../../src/core/store/storeLocation.js';
import { capturedStreams } from '../../helpers/cli.js';
import { git, PROJECT_ROOT, tempDir } from '../../helpers/tempRepo.js';
import { exportValidator, readJsonLines } from './exportSchemas.js';
import { syntheticTask } from './syntheticTask.js';

const io = capturedStreams;

/** A store with two tasks: the first with 2 accepted and 1 rejected candidates, the second undecided. */
async function filledStore(dir: string): Promise<PreferenceStore> {
  const store = PreferenceStore.open(dir, { env: {} });
  const first = await store.appendTask(syntheticTask(1, { steps: 2, candidates: 3 }));
  await store.appendTask(syntheticTask(2, { steps: 2, candidates: 2 }));
  await store.appendDecision({ taskId: first, candidateId: 'r0', decision: 'applied' });
  await store.appendDecision({ taskId: first, candidateId: 'r1', decision: 'applied' });
  await store.appendDecision({ taskId: first, candidateId: 'r2', decision: 'rejected' });
  return store;
}

describe('entropo export and entropo stats', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('exports every format with the counts it reports, and stats agrees', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const storeDir = path.join(dir, 'store');
    await filledStore(storeDir);
    const validate = exportValidator();
    const expected = { 'entropo-dpo': 2, 'entropo-kto': 3, 'trl-dpo': 2, 'trl-kto': 3 } as const;
    for (const [format, count] of Object.entries(expected) as [keyof typeof expected, number][]) {
      const run = io();
      const out = path.join(dir, `${format}.jsonl`);
      expect(await exportCommand(['--format', format, '--out', out, '--store', storeDir], run.streams)).toBe(0);
      expect(run.text.out).toContain(`Wrote ${count} ${format.endsWith('dpo') ? 'preference pairs' : 'labelled trajectories'} (0 weakly labelled) from 1 task(s)`);
      expect(run.text.err).toBe('');
      const lines = readJsonLines(out);
      expect(lines).toHaveLength(count);
      for (const line of lines) expect(validate(format, line)).toEqual([]);
    }
    const run = io();
    expect(await statsCommand(['--store', storeDir, '--json'], run.streams)).toBe(0);
    expect(JSON.parse(run.text.out)).toMatchObject({ tasks: 2, candidates: 5, decisions: { applied: 2, rejected: 1, reverted: 0 },
      exportable: { dpoPairs: 2, ktoExamples: 3 }, torn: 0, skipped: [] });
    const human = io();
    await statsCommand(['--store', storeDir], human.streams);
    expect(human.text.out).toContain('tasks                2');
    expect(human.text.out).toContain('exportable           2 DPO pairs, 3 KTO examples');
  });

  it('an export with nothing to write leaves an earlier export as it was, says why and where decisions come from, and exits 1', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const storeDir = path.join(dir, 'store');
    await PreferenceStore.open(storeDir, { env: {} }).appendTask(syntheticTask(3, { steps: 1, candidates: 2 }));
    for (const format of ['entropo-dpo', 'trl-kto', 'verifier-features']) {
      const out = path.join(dir, `${format}.jsonl`);
      writeFileSync(out, '{"earlier": "export"}\n');
      const run = io();
      expect(await exportCommand(['--format', format, '--out', out, '--store', storeDir], run.streams)).toBe(1);
      expect(readFileSync(out, 'utf8')).toBe('{"earlier": "export"}\n');
      expect(run.text.out).toBe('');
      expect(run.text.err).toMatch(new RegExp(`^entropo: nothing to export: .*\\(decisions are recorded by the extension's review panel and by \`entropo apply\` / \`entropo reject\`\\); ${out} was left as it was\n$`));
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
    const noDecision = io();
    await exportCommand(['--format', 'entropo-kto', '--out', path.join(dir, 'kto.jsonl'), '--store', storeDir], noDecision.streams);
    expect(noDecision.text.err).toMatch(/^entropo: nothing to export: no candidate has a decision yet /);
    // Decisions that give no label are not "no decision".
    const store = PreferenceStore.open(storeDir, { env: {} });
    const taskId = (await store.appendTask(syntheticTask(4, { steps: 1, candidates: 2 })));
    await store.appendDecision({ taskId, candidateId: 'r0', decision: 'applied' });
    await store.appendDecision({ taskId, candidateId: 'r0', decision: 'reverted' });
    const unlabelled = io();
    expect(await exportCommand(['--format', 'trl-kto', '--out', path.join(dir, 'kto.jsonl'), '--store', storeDir], unlabelled.streams)).toBe(1);
    expect(unlabelled.text.err).toMatch(/^entropo: nothing to export: none of the 2 recorded decision\(s\) gives a label \(a candidate taken back after it was applied/);
    // A place that cannot be written is an error that names it, not a crash of an unhandled stream error.
    await expect(exportCommand(['--format', 'entropo-kto', '--out', '/proc/entropo-export.jsonl', '--store', storeDir], io().streams))
      .rejects.toThrow(/^Cannot write the export \/proc\/entropo-export\.jsonl: /);
  });

  it('stats names what is kept out of training: cancelled or failed runs, and candidates whose rollout failed', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = PreferenceStore.open(path.join(dir, 'store'), { env: {} });
    const task = syntheticTask(3, { steps: 1, candidates: 3 });
    await store.appendTask({ ...task, candidates: task.candidates.map((c) => (c.id === 'r1' ? { ...c, exitReason: 'model_error' as const } : c)) });
    await store.appendTask({ ...syntheticTask(4, { steps: 1, candidates: 2 }), status: 'cancelled' });
    const human = io();
    expect(await statsCommand(['--store', store.dir], human.streams)).toBe(0);
    expect(human.text.out).toContain('not for training     1 cancelled and 0 failed run(s); 1 candidate(s) whose rollout was stopped from outside (a failure, a cancel, the batch budget)');
  });

  it('reports torn lines, refuses bad flags, and deletes only with --yes', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const storeDir = path.join(dir, 'store');
    const store = await filledStore(storeDir);
    const file = path.join(storeDir, readdirSync(storeDir).find((n) => n.endsWith('.jsonl'))!);
    appendFileSync(file, '{"format":"entropo-store-1.0","kind":"dec');
    const stats = io();
    await statsCommand(['--store', storeDir], stats.streams);
    expect(stats.text.out).toContain('skipped lines        1 (1 torn by a crash)');
    expect(stats.text.out).toMatch(/records-\d{4}-\d\d\.jsonl:6 torn_tail: \{"format":"entropo-store-1.0","kind":"dec/);
    const exported = io();
    await exportCommand(['--format', 'trl-dpo', '--out', path.join(dir, 'x.jsonl'), '--store', storeDir], exported.streams);
    expect(exported.text.err).toContain('skipped 1 unreadable line(s) of the store (1 torn by a crash)');

    await expect(exportCommand(['--format', 'parquet', '--out', 'x', '--store', storeDir], io().streams)).rejects.toThrow(UsageError);
    await expect(exportCommand(['--format', 'trl-dpo', '--store', storeDir], io().streams)).rejects.toThrow(/--out FILE is required/);
    await expect(exportCommand(['--format', 'trl-dpo', '--out', 'x', '--weak-labels', '0.3'], io().streams)).rejects.toThrow(/--weak-labels must be a number from 0.5 to 1/);
    await expect(statsCommand(['--store', storeDir, '--delete-all'], io().streams)).rejects.toThrow(/would delete 2 task\(s\) and 3 decision\(s\).*--yes/);
    expect((await store.readAll()).tasks).toHaveLength(2);
    const deleted = io();
    expect(await statsCommand(['--store', storeDir, '--delete-all', '--yes'], deleted.streams)).toBe(0);
    expect(deleted.text.out).toBe(`Deleted 2 task(s) and 3 decision(s) (1 file(s)) from ${storeDir}\n`);
    expect(existsSync(storeDir)).toBe(false);
  });

  it('finds the default store of a repository under HOME, in a real process', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const repo = path.join(dir, 'repo');
    mkdirSync(path.join(repo, 'src'), { recursive: true });
    git(repo, 'init', '-q');
    const home = path.join(dir, 'home');
    await filledStore(defaultStoreDir(repo, home));
    const script = "require('./src/cli/statsCommand.ts').statsCommand(process.argv.slice(1)).then((c) => { process.exitCode = c; })";
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, '--', '--repo', path.join(repo, 'src'), '--json'],
      { cwd: PROJECT_ROOT, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 60_000 });
    expect([result.status, result.stderr]).toEqual([0, '']);
    const stats = JSON.parse(result.stdout) as { dir: string; tasks: number };
    expect(stats).toMatchObject({ dir: defaultStoreDir(repo, home), tasks: 2 });
    expect(stats.dir.startsWith(path.join(home, '.local', 'state', 'entropo', 'store'))).toBe(true);
  });
});
