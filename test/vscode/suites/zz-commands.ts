import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { resolveConfig } from '../../../src/core/agent/config.js';
import type { ExportSummary } from '../../../src/core/store/exportPreferences.js';
import { PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import type { StoredCandidate, TaskInput } from '../../../src/core/store/storeTypes.js';
import type { DeleteOutcome } from '../../../src/vscode/deleteRecordedData.js';
import { trainDataDir } from '../../../src/vscode/trainData.js';
import type { TrainOutcome } from '../../../src/vscode/trainModel.js';
import { e2eEnv, EXTENSION_ID, ourExtension, runCommand } from '../helpers.js';
import { skip, suite } from '../suite.js';

const execFileAsync = promisify(execFile);

/** A rollout that looked at the code, edited it and submitted; `judge` is its verifier score. */
function candidate(id: string, edit: string, judge: number): StoredCandidate {
  return {
    id, patch: `--- a/pager/core.py\n+++ b/pager/core.py\n@@ -1 +1 @@\n-old\n+${edit}\n`, changedFiles: ['pager/core.py'], exitReason: 'submitted',
    result: 'Fixed.', steps: 2, usage: { promptTokens: 900, completionTokens: 80, costUsd: 0 }, wallMs: 1200, model: 'scripted',
    messages: [
      { role: 'system', content: 'You are a software engineering agent.' },
      { role: 'user', content: 'page_count is off by one for exact multiples.' },
      { role: 'assistant', content: `I will edit core.py (${id}).\n<function=file_editor><parameter=command>view</parameter></function>` },
      { role: 'user', content: 'Execution output of [file_editor]:\ndef page_count(total, per_page): ...' },
      { role: 'assistant', content: `${edit}\n<function=finish><parameter=command>submit</parameter></function>` },
    ],
    signals: { finished: { status: 'ok', score: 1, detail: 'submitted' }, judge: { status: 'ok', score: judge, detail: `P(YES) ${judge}` } },
  };
}

function task(): TaskInput {
  return {
    issue: 'page_count is off by one for exact multiples.', repo: { remoteUrl: 'https://github.com/acme/pager.git', head: 'a'.repeat(40), name: 'pager' },
    snapshot: { commit: 'b'.repeat(40), baseHead: 'a'.repeat(40) }, batchId: 'batch-e2e', config: resolveConfig({ format: 'text' }),
    tools: [{ name: 'finish', description: 'Ends the episode.', parameters: { type: 'object', properties: { command: { type: 'string', description: 'submit' } }, required: ['command'] } }],
    candidates: [candidate('r0', 'return ceil', 0.8), candidate('r1', 'return plus one', 0.3), candidate('r2', 'return ceil too', 0.95)],
  };
}

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Export, delete and fine-tune, through the arguments that skip their prompts, on a store made here. */
export default suite('commands', ({ test, after }) => {
  const temp = mkdtempSync(path.join(tmpdir(), 'entropo-e2e-commands-'));
  const store = path.join(temp, 'store');
  let taskId = '';

  test('Export Preference Data writes the applied x rejected pair as entropo-dpo', async () => {
    await ourExtension().activate();
    await vscode.workspace.getConfiguration('entropo').update('storeDirectory', store, vscode.ConfigurationTarget.Global);
    const recorded = PreferenceStore.open(store, { fsync: false });
    taskId = await recorded.appendTask(task());
    await recorded.appendDecision({ taskId, candidateId: 'r0', decision: 'applied' });
    await recorded.appendDecision({ taskId, candidateId: 'r1', decision: 'rejected' });
    const out = path.join(temp, 'pairs.jsonl');
    const summary = await runCommand<ExportSummary>('entropo.exportPreferences', { format: 'entropo-dpo', out });
    assert.deepEqual([summary.lines, summary.weakLines, summary.tasks, summary.orphanDecisions, summary.skipped.length], [1, 0, 1, 0, 0]);
    const lines = jsonLines(out);
    assert.equal(lines.length, 1);
    const [pair] = lines as { format: string; task_id: string; chosen: { content: string }[]; rejected: { content: string }[]; meta: { candidate_ids: string[] } }[];
    assert.equal(pair.format, 'entropo-dpo-1.0');
    assert.equal(pair.task_id, taskId);
    assert.deepEqual(pair.meta.candidate_ids, ['r0', 'r1']);
    assert.match(pair.chosen.at(-1)!.content, /return ceil/);
    assert.match(pair.rejected.at(-1)!.content, /return plus one/);
  }, 60_000);

  test('Export as entropo-kto with weak labels adds the confident undecided candidate', async () => {
    const out = path.join(temp, 'kto.jsonl');
    const summary = await runCommand<ExportSummary>('entropo.exportPreferences', { format: 'entropo-kto', out, weakLabels: 0.9 });
    assert.deepEqual([summary.lines, summary.weakLines, summary.tasks], [3, 1, 1]);
    const lines = jsonLines(out) as { label: boolean; weak_label: boolean; meta: { candidate_id: string } }[];
    assert.deepEqual(lines.map((l) => [l.meta.candidate_id, l.label, l.weak_label]).sort(), [['r0', true, false], ['r1', false, false], ['r2', true, true]]);
  }, 60_000);

  test('Export refuses an unknown format and writes nothing', async () => {
    const out = path.join(temp, 'bad.jsonl');
    const summary = await runCommand<ExportSummary | undefined>('entropo.exportPreferences', { format: 'csv', out });
    assert.equal(summary, undefined);
    assert.equal(existsSync(out), false);
  }, 30_000);

  test('Delete Recorded Data removes every task and decision of the store, the copies Fine-Tune exported from it, and only those', async () => {
    // Training data exported by Fine-Tune, from this store and from another workspace's
    const globalStorage = path.join(e2eEnv.userData, 'User', 'globalStorage', EXTENSION_ID);
    const ours = trainDataDir(globalStorage, store);
    const theirs = trainDataDir(globalStorage, path.join(temp, 'other-store'));
    for (const dir of [ours, theirs]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, '2026-01-01-entropo-dpo.jsonl'), '{}\n');
    }
    // And one of an earlier version, of no known store
    const older = path.join(globalStorage, 'train-data', '2025-12-01-entropo-dpo.jsonl');
    writeFileSync(older, '{}\n');
    const outcome = await runCommand<DeleteOutcome>('entropo.deleteRecordedData', { confirm: true });
    assert.deepEqual(outcome, { dir: store, tasks: 1, decisions: 2, files: 1, exports: 1 });
    assert.equal(existsSync(store), false);
    assert.equal(existsSync(ours), false);
    assert.ok(existsSync(path.join(theirs, '2026-01-01-entropo-dpo.jsonl')), 'another store\'s exports stay');
    assert.ok(existsSync(older), 'an export of no known store stays (the message says so)');
    rmSync(theirs, { recursive: true });
    rmSync(older);
    assert.ok(existsSync(path.join(temp, 'pairs.jsonl')), 'the exports outside the store stay');
    const stats = await PreferenceStore.open(store).stats();
    assert.deepEqual([stats.tasks, stats.candidates, stats.decisions.applied + stats.decisions.rejected], [0, 0, 0]);
    const again = await runCommand<DeleteOutcome>('entropo.deleteRecordedData', { confirm: true });
    assert.deepEqual(again, { dir: store, tasks: 0, decisions: 0, files: 0, exports: 0 });
  }, 30_000);

  test('Export after the delete writes nothing and says so', async () => {
    const out = path.join(temp, 'after-delete.jsonl');
    const summary = await runCommand<ExportSummary>('entropo.exportPreferences', { format: 'entropo-dpo', out });
    assert.deepEqual([summary.lines, summary.tasks, summary.written], [0, 0, false]);
    assert.equal(existsSync(out), false, 'no empty file in place of an export');
  }, 30_000);

  test('Fine-Tune trains a tiny model from the exported pair with the trainer the package ships, on the CPU despite a 4-bit default', async () => {
    const venv = e2eEnv.trainerVenv;
    if (!venv || !existsSync(path.join(venv, 'bin', 'python'))) skip('no trainer environment: scripts/test.sh creates trainer/.venv before this suite');
    const trainerDir = path.join(ourExtension().extensionPath, 'trainer');
    assert.ok(existsSync(path.join(trainerDir, 'entropo_trainer', 'train.py')), `no trainer in ${trainerDir}`);
    const data = path.join(temp, 'pairs.jsonl');
    const model = path.join(temp, 'tiny-model');
    await execFileAsync(path.join(venv, 'bin', 'python'), ['-m', 'entropo_trainer.tiny', model, '--corpus', data], { cwd: trainerDir });
    const config = vscode.workspace.getConfiguration('entropo.train');
    await config.update('pythonEnvironment', venv, vscode.ConfigurationTarget.Global);
    await config.update('extraArgs', ['--max-steps', '2', '--grad-accum', '1'], vscode.ConfigurationTarget.Global);
    // A 4-bit default needs a GPU: a run on the CPU trains the base as it is instead of failing on the setting.
    await config.update('quantize', '4bit', vscode.ConfigurationTarget.Global);
    try {
      const out = path.join(temp, 'adapter-out');
      const outcome = await runCommand<TrainOutcome>('entropo.train', { method: 'entropo-dpo', baseModel: model, data, out, cpuOk: true });
      assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
      assert.ok(outcome.status === 'done' && existsSync(path.join(outcome.adapterDir, 'adapter_config.json')), 'the adapter was saved');
      assert.match(outcome.status === 'done' ? outcome.vllmCommand ?? '' : '', /vllm serve .* --enable-lora/);
    } finally {
      await config.update('pythonEnvironment', undefined, vscode.ConfigurationTarget.Global);
      await config.update('extraArgs', undefined, vscode.ConfigurationTarget.Global);
      await config.update('quantize', undefined, vscode.ConfigurationTarget.Global);
    }
  }, 300_000);

  after(async () => {
    await vscode.workspace.getConfiguration('entropo').update('storeDirectory', undefined, vscode.ConfigurationTarget.Global);
    rmSync(temp, { recursive: true, force: true });
  });
});
