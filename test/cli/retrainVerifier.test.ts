import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/exportCommand.js';
import { UsageError } from '../../src/cli/usageError.js';
import { PreferenceStore } from '../../src/core/store/preferenceStore.js';
import type { TaskInput } from '../../src/core/store/storeTypes.js';
import { FEATURE_NAMES, FEATURE_SCHEMA, instanceFeatures } from '../../src/core/verify/local/features.js';
import { localVerifier } from '../../src/core/verify/local/localVerifier.js';
import { capturedStreams, runCli } from '../helpers/cli.js';
import { PROJECT_ROOT, tempDir } from '../helpers/tempRepo.js';
import { syntheticTask } from '../core/store/syntheticTask.js';

const run = promisify(execFile);
const TASKS = 6;

// The user's decisions -> feature rows -> trainer/verifier/train.py -> an ONNX model that the product then
// ranks with: the loop that lets the local verifier learn from its user.
describe('retraining the local verifier on the recorded decisions', () => {
  const work = tempDir('entropo-retrain-');
  const storeDir = path.join(work.dir, 'store');
  const rows = path.join(work.dir, 'decisions.jsonl');
  const tasks: TaskInput[] = [];
  let python = '';

  beforeAll(async () => {
    const store = PreferenceStore.open(storeDir, { env: {} });
    for (let seed = 1; seed <= TASKS; seed += 1) {
      const task = syntheticTask(seed, { steps: 1, candidates: 3 });
      tasks.push(task);
      const id = await store.appendTask(task);
      await store.appendDecision({ taskId: id, candidateId: 'r0', decision: 'applied' });
      await store.appendDecision({ taskId: id, candidateId: 'r1', decision: seed % 2 === 0 ? 'rejected' : 'applied' });
      if (seed % 2 === 1) await store.appendDecision({ taskId: id, candidateId: 'r1', decision: 'rejected' });
    }
    await store.appendTask(syntheticTask(99, { steps: 1, candidates: 2 }));
    // The same setup the test script runs first; quick when the environment is up to date.
    python = (await run('bash', [path.join(PROJECT_ROOT, 'trainer/verifier/setup.sh')], { maxBuffer: 1 << 24 })).stdout.trim().split('\n').pop()!;
  }, 600_000);
  afterAll(() => work.cleanup());

  it('exports every decided candidate with the features the product computes, labelled by the latest decision', async () => {
    const { streams: io, text } = capturedStreams();
    expect(await exportCommand(['--format', 'verifier-features', '--out', rows, '--store', storeDir], io)).toBe(0);
    expect(text.out).toContain(`Wrote ${2 * TASKS} labelled candidates (${TASKS} accepted) from ${TASKS} task(s)`);
    const [header, ...lines] = readFileSync(rows, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(header).toMatchObject({ header: true, schema: FEATURE_SCHEMA, feature_names: [...FEATURE_NAMES] });
    expect(lines).toHaveLength(2 * TASKS);
    // r0 applied everywhere; r1 rejected, or applied and then rejected: a 0 either way. r2 is undecided.
    expect(lines.map((l) => `${l.candidate_id}:${l.label}`)).toEqual(Array.from({ length: TASKS }, () => ['r0:1', 'r1:0']).flat());
    const first = tasks[0];
    const expected = instanceFeatures(first.issue, first.candidates.map((c) => c.patch));
    expect(lines[0].features).toEqual(Array.from(expected[0]));
    expect(lines[1].features).toEqual(Array.from(expected[1]));
  });

  it('is refused with weak labels, which the verifier must not learn from', async () => {
    const { streams: io } = capturedStreams();
    await expect(exportCommand(['--format', 'verifier-features', '--out', rows, '--store', storeDir, '--weak-labels', '0.9'], io)).rejects.toThrow(UsageError);
  });

  it('trains a model on them that the product loads and ranks with (--local-model)', async () => {
    const out = path.join(work.dir, 'my-verifier');
    const trained = await run(python, [path.join(PROJECT_ROOT, 'trainer/verifier/train.py'), '--features', rows, '--folds', '3', '--seeds', '1',
      '--config', 'logreg_C1', '--out', out], { cwd: PROJECT_ROOT });
    expect(trained.stdout).toMatch(/chose logreg_C1; wrote .*local-verifier\.onnx/);
    const model = path.join(out, 'local-verifier.onnx');
    const meta = JSON.parse(readFileSync(path.join(out, 'local-verifier.json'), 'utf8')) as { rows: number; issues: number; positives: number; schema: string };
    expect(meta).toMatchObject({ rows: 2 * TASKS, issues: TASKS, positives: TASKS, schema: FEATURE_SCHEMA });
    const scores = await localVerifier(tasks[0].issue, tasks[0].candidates.map((c) => ({ id: c.id, patch: c.patch })), { modelPath: model });
    for (const id of ['r0', 'r1', 'r2']) expect(scores.get(id)).toMatchObject({ status: 'ok' });

    const candidates = path.join(work.dir, 'candidates.jsonl');
    writeFileSync(candidates, `${JSON.stringify({ instance_id: 't1', problem_statement: tasks[0].issue, candidates: tasks[0].candidates.map((c) => ({ id: c.id, patch: c.patch })) })}\n`);
    const ranked = await runCli(['rank', '--candidates', candidates, '--signals', 'local', '--local-model', model]);
    expect(ranked.code).toBe(0);
    expect(ranked.stdout).toMatch(/"local":\{"status":"ok"/);
    const missing = await runCli(['rank', '--candidates', candidates, '--local-model', path.join(work.dir, 'nope.onnx')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--local-model .*nope\.onnx does not exist/);
    expect(existsSync(model)).toBe(true);
  }, 300_000);

  it('says clearly when there are fewer decided tasks than folds', async () => {
    const failed = await run(python, [path.join(PROJECT_ROOT, 'trainer/verifier/train.py'), '--features', rows, '--folds', String(TASKS + 1),
      '--out', path.join(work.dir, 'x')], { cwd: PROJECT_ROOT }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(new RegExp(`${TASKS} task\\(s\\) or issue\\(s\\) with labels, fewer than --folds ${TASKS + 1}`));
  }, 120_000);
});
