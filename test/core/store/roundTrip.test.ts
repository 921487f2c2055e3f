import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type AgentConfig } from '../../../src/core/agent/config.js';
import { createModelFactory } from '../../../src/core/llm/createModel.js';
import type { BatchResult } from '../../../src/core/sampling/batchTypes.js';
import { runBatch } from '../../../src/core/sampling/runBatch.js';
import { toChatMessage } from '../../../src/core/store/chatMessages.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../../src/core/store/exportLines.js';
import { exportPreferences } from '../../../src/core/store/exportPreferences.js';
import { PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import { recordBatch, type RecordedBatch } from '../../../src/core/store/recordBatch.js';
import { defaultTools } from '../../../src/core/tools/defaultTools.js';
import type { CandidateSignals, Ranking } from '../../../src/core/verify/signalTypes.js';
import { exampleReplies } from '../../helpers/exampleScript.js';
import { EXAMPLE_DIR, exampleRepo, git, tempDir } from '../../helpers/tempRepo.js';
import { exportValidator, readJsonLines } from './exportSchemas.js';

const NAMES = ['fix-ceil', 'fix-math-ceil', 'fix-plus-one', 'fix-range-check'];
const ISSUE = readFileSync(path.join(EXAMPLE_DIR, 'issue.md'), 'utf8');
const REMOTE = 'https://github.com/acme/pager.git';
const validate = exportValidator();

/** Judge scores per rollout: the two correct fixes high, the two wrong ones low (r1 and r2 are sure). */
const SIGNALS: CandidateSignals[] = [0.8, 0.95, 0.05, 0.3].map((score, k) => ({
  candidateId: `r${k}`,
  signals: { finished: { status: 'ok', score: 1, detail: 'submitted' }, judge: { status: 'ok', score, detail: `P(YES)=${score}` }, local: { status: 'unavailable', reason: 'no model' } },
}));
const RANKING: Ranking = { mode: 'entropo', order: ['r1', 'r0', 'r3', 'r2'], explanations: { r0: 'second', r1: 'best', r2: 'last', r3: 'third' } };

/** The batch with SIGNALS[k] measured for its k-th candidate. */
function withSignals(batch: BatchResult): RecordedBatch {
  return { ...batch, candidates: batch.candidates.map((c, k) => ({ ...c, signals: SIGNALS[k].signals })) };
}

/** A real batch of the four example scripts over a temp copy of the example repository. */
async function realBatch(format: 'text' | 'tools', cleanups: (() => void)[]): Promise<{ batch: BatchResult; config: AgentConfig; repo: string }> {
  const repo = exampleRepo();
  const work = tempDir();
  cleanups.push(repo.cleanup, work.cleanup);
  git(repo.dir, 'remote', 'add', 'origin', REMOTE);
  const files = NAMES.map((name) => {
    const file = path.join(work.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ model: `scripted-${name}`, responses: exampleReplies(name, format) }));
    return file;
  });
  const config = resolveConfig({ format });
  const batch = await runBatch({ repoDir: repo.dir, issue: ISSUE, samples: 4, config, outDir: path.join(work.dir, 'out'),
    worktreeBaseDir: path.join(work.dir, 'wt'), model: await createModelFactory({ kind: 'scripts', files }) });
  expect(batch.candidates.map((c) => c.exitReason)).toEqual(['submitted', 'submitted', 'submitted', 'submitted']);
  return { batch, config, repo: repo.dir };
}

async function exportAll(store: PreferenceStore, dir: string, weak?: number): Promise<Record<ExportFormat, Record<string, unknown>[]>> {
  const out = {} as Record<ExportFormat, Record<string, unknown>[]>;
  for (const format of EXPORT_FORMATS) {
    const file = path.join(dir, `${format}${weak ?? ''}.jsonl`);
    const summary = await exportPreferences(store, { format, out: file, weakLabels: weak === undefined ? undefined : { minConfidence: weak } });
    out[format] = readJsonLines(file);
    expect(summary.lines).toBe(out[format].length);
    for (const line of out[format]) expect(validate(format, line)).toEqual([]);
  }
  return out;
}

describe('preference store round trip over a real batch (text format)', () => {
  const cleanups: (() => void)[] = [];
  let batch: BatchResult;
  let config: AgentConfig;
  let store: PreferenceStore;
  let taskId: string;
  let work: string;

  beforeAll(async () => {
    ({ batch, config } = await realBatch('text', cleanups));
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    work = temp.dir;
    store = PreferenceStore.open(path.join(work, 'store'));
    taskId = await recordBatch(store, withSignals(batch), { issue: ISSUE, config, ranking: RANKING });
    for (const [candidateId, decision] of [['r0', 'applied'], ['r1', 'applied'], ['r2', 'rejected'], ['r3', 'rejected']] as const) {
      await store.appendDecision({ taskId, candidateId, decision, note: `${decision} in review` });
    }
  });
  afterAll(() => cleanups.splice(0).forEach((c) => c()));

  it('reads back the task whole: issue, repo identity, snapshot, config, trajectories, patches, signals, ranking', async () => {
    const { tasks, decisions, torn, skipped } = await store.readAll();
    expect([tasks.length, decisions.length, torn, skipped]).toEqual([1, 4, 0, []]);
    const task = tasks[0];
    expect(task).toMatchObject({ format: 'entropo-store-1.0', kind: 'task', id: taskId, issue: ISSUE, batchId: batch.batchId, config, ranking: RANKING });
    expect(task.checksum).toMatch(/^[0-9a-f]{16}$/);
    expect(task.repo).toEqual({ remoteUrl: REMOTE, head: batch.snapshot.baseHead, name: path.basename(batch.snapshot.root) });
    expect(task.snapshot).toEqual({ commit: batch.snapshot.commit, baseHead: batch.snapshot.baseHead });
    expect(task.tools.map((t) => t.name)).toEqual(defaultTools.map((t) => t.spec.name));
    expect(task.candidates.map((c) => [c.id, c.exitReason, c.steps, c.model])).toEqual(batch.candidates.map((c) => [c.id, c.exitReason, c.steps, c.model]));
    for (const [k, c] of task.candidates.entries()) {
      expect(c.messages).toEqual(batch.candidates[k].messages);
      expect(c.patch).toBe(batch.candidates[k].patch);
      expect(c.usage).toEqual(batch.candidates[k].usage);
      expect(c.signals).toEqual(SIGNALS[k].signals);
    }
    expect(decisions.map((d) => [d.taskId, d.candidateId, d.decision, d.note])).toEqual([
      [taskId, 'r0', 'applied', 'applied in review'], [taskId, 'r1', 'applied', 'applied in review'],
      [taskId, 'r2', 'rejected', 'rejected in review'], [taskId, 'r3', 'rejected', 'rejected in review']]);
  });

  it('exports 2 accepted x 2 rejected = 4 DPO pairs and 4 KTO examples, every line valid against its schema', async () => {
    const out = await exportAll(store, work);
    expect(Object.fromEntries(EXPORT_FORMATS.map((f) => [f, out[f].length]))).toEqual({ 'entropo-dpo': 4, 'entropo-kto': 4, 'trl-dpo': 4, 'trl-kto': 4 });
    const byId = new Map(batch.candidates.map((c) => [c.id, c]));
    const continuation = (id: string) => byId.get(id)!.messages.slice(2).map(toChatMessage);
    const prompt = batch.candidates[0].messages.slice(0, 2).map(toChatMessage);
    const pairs = out['entropo-dpo'].map((line) => (line.meta as { candidate_ids: string[] }).candidate_ids.join('>'));
    expect(pairs.sort()).toEqual(['r0>r2', 'r0>r3', 'r1>r2', 'r1>r3']);
    for (const line of out['entropo-dpo']) {
      const [chosen, rejected] = (line.meta as { candidate_ids: string[] }).candidate_ids;
      expect(line).toMatchObject({ format: 'entropo-dpo-1.0', task_id: taskId, action_format: 'text', weak_label: false, prompt });
      expect(line.chosen).toEqual(continuation(chosen));
      expect(line.rejected).toEqual(continuation(rejected));
      expect(line.meta).toMatchObject({ repo: 'acme/pager', base_commit: batch.snapshot.baseHead, chosen_patch: byId.get(chosen)!.patch, rejected_patch: byId.get(rejected)!.patch });
      expect(line).not.toHaveProperty('tools');
    }
    expect((prompt[1].content)).toContain('The last page is lost');
    expect(out['entropo-kto'].map((l) => [(l.meta as { candidate_id: string }).candidate_id, l.label])).toEqual([['r0', true], ['r1', true], ['r2', false], ['r3', false]]);
    expect(out['trl-kto'].map((l) => Object.keys(l).sort())).toEqual(Array(4).fill(['completion', 'format', 'label', 'prompt']));
    expect(out['trl-dpo'][0]).toEqual({ format: 'trl-dpo-1.0', prompt, chosen: out['entropo-dpo'][0].chosen, rejected: out['entropo-dpo'][0].rejected });
  });

  it('counts the same in stats; a revert takes an accepted candidate out of the data, an explicit reject makes it rejected', async () => {
    const before = await store.stats();
    expect(before).toMatchObject({ tasks: 1, candidates: 4, decisions: { applied: 2, rejected: 2, reverted: 0 }, accepted: 2, rejected: 2,
      exportable: { dpoPairs: 4, ktoExamples: 4, weakDpoPairs: 0, weakKtoExamples: 0 }, orphanDecisions: 0, torn: 0, skipped: [] });
    const dir = path.join(work, 'reverted');
    const copy = PreferenceStore.open(dir);
    const { tasks, decisions } = await store.readAll();
    const { format: _f, kind: _k, id: _i, timestamp: _t, checksum: _c, ...input } = tasks[0];
    const id = await copy.appendTask(input);
    for (const d of decisions) await copy.appendDecision({ taskId: id, candidateId: d.candidateId, decision: d.decision });
    await copy.appendDecision({ taskId: id, candidateId: 'r1', decision: 'reverted' });
    await copy.appendDecision({ taskId: 'task-unknown', candidateId: 'r0', decision: 'applied' });
    const after = await copy.stats();
    // Taken back outside the panel: no longer accepted, and no rejection either (decisions.ts).
    expect(after).toMatchObject({ decisions: { applied: 3, rejected: 2, reverted: 1 }, accepted: 1, rejected: 2, orphanDecisions: 1,
      exportable: { dpoPairs: 2, ktoExamples: 3 } });
    const summary = await exportPreferences(copy, { format: 'entropo-kto', out: path.join(dir, 'kto.jsonl') });
    expect(summary).toMatchObject({ lines: 3, tasks: 1, orphanDecisions: 1, weakLines: 0 });
    expect(readJsonLines(path.join(dir, 'kto.jsonl')).map((l) => l.label)).toEqual([true, false, false]);
    await copy.appendDecision({ taskId: id, candidateId: 'r1', decision: 'rejected' });
    expect(await copy.stats()).toMatchObject({ accepted: 1, rejected: 3, exportable: { dpoPairs: 3, ktoExamples: 4 } });
  });

  it('adds confident verifier labels for undecided candidates only when weak labels are asked for', async () => {
    const dir = path.join(work, 'weak');
    const weakStore = PreferenceStore.open(dir);
    const id = await recordBatch(weakStore, withSignals(batch), { issue: ISSUE, config });
    await weakStore.appendDecision({ taskId: id, candidateId: 'r0', decision: 'applied' });
    await weakStore.appendDecision({ taskId: id, candidateId: 'r3', decision: 'rejected' });
    expect((await weakStore.stats()).exportable).toEqual({ dpoPairs: 1, ktoExamples: 2, weakDpoPairs: 0, weakKtoExamples: 0 });
    // r1 (0.95) becomes a weak positive and r2 (0.05) a weak negative at 0.9; r0 and r3 keep the user's labels.
    expect((await weakStore.stats({ minConfidence: 0.9 })).exportable).toEqual({ dpoPairs: 4, ktoExamples: 4, weakDpoPairs: 3, weakKtoExamples: 2 });
    const out = await exportAll(weakStore, dir, 0.9);
    expect(out['entropo-dpo'].map((l) => [(l.meta as { candidate_ids: string[] }).candidate_ids.join('>'), l.weak_label]).sort()).toEqual([
      ['r0>r2', true], ['r0>r3', false], ['r1>r2', true], ['r1>r3', true]]);
    expect(out['entropo-kto'].map((l) => [(l.meta as { candidate_id: string }).candidate_id, l.label, l.weak_label])).toEqual([
      ['r0', true, false], ['r1', true, true], ['r2', false, true], ['r3', false, false]]);
    expect(out['trl-dpo']).toHaveLength(4);
    await expect(exportPreferences(weakStore, { format: 'entropo-kto', out: path.join(dir, 'x.jsonl'), weakLabels: { minConfidence: 0.4 } }))
      .rejects.toThrow(/above 0.5/);
  });
});

describe('preference store round trip over a real batch (native tool calls)', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.splice(0).forEach((c) => c()));

  it('exports tool_calls, tool messages and the tool specs in OpenAI shape, valid against the schemas', async () => {
    const { batch, config } = await realBatch('tools', cleanups);
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const store = PreferenceStore.open(path.join(temp.dir, 'store'));
    const taskId = await recordBatch(store, batch, { issue: ISSUE, config });
    await store.appendDecision({ taskId, candidateId: 'r1', decision: 'applied' });
    await store.appendDecision({ taskId, candidateId: 'r2', decision: 'rejected' });
    const out = await exportAll(store, temp.dir);
    expect(Object.fromEntries(EXPORT_FORMATS.map((f) => [f, out[f].length]))).toEqual({ 'entropo-dpo': 1, 'entropo-kto': 2, 'trl-dpo': 1, 'trl-kto': 2 });
    const line = out['trl-dpo'][0] as { chosen: { role: string; tool_calls?: { type: string; function: { name: string } }[]; tool_call_id?: string }[]; tools: { type: string; function: { name: string } }[] };
    expect(line.tools.map((t) => [t.type, t.function.name])).toEqual(defaultTools.map((t) => ['function', t.spec.name]));
    const first = line.chosen[0];
    expect(first.role).toBe('assistant');
    expect(first.tool_calls?.map((c) => [c.type, c.function.name])).toEqual([['function', 'search']]);
    expect(line.chosen[1]).toMatchObject({ role: 'tool', tool_call_id: 'call_0' });
    expect(out['entropo-dpo'][0]).toMatchObject({ action_format: 'tools', tools: line.tools });
  });
});
