import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../src/core/agent/config.js';
import { createModelFactory } from '../../../../src/core/llm/createModel.js';
import type { BatchResult } from '../../../../src/core/sampling/batchTypes.js';
import { runBatch } from '../../../../src/core/sampling/runBatch.js';
import type { Message, ProcessRunner } from '../../../../src/core/types.js';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';
import { prepareCandidateTrees } from '../../../../src/core/verify/execution/candidateTrees.js';
import { reproductionSignal } from '../../../../src/core/verify/execution/reproductionSignal.js';
import { testSignals, type TestSignals } from '../../../../src/core/verify/execution/testSignals.js';
import { NodeProcessRunner } from '../../../../src/core/node/nodeProcessRunner.js';
import { releaseSnapshot } from '../../../../src/core/worktree/snapshot.js';
import { EXAMPLE_DIR, exampleRepo, git, tempDir } from '../../../helpers/tempRepo.js';

const NAMES = ['fix-ceil', 'fix-math-ceil', 'fix-plus-one', 'fix-range-check'];
const SCRIPTS = NAMES.map((n) => path.join(EXAMPLE_DIR, 'scripted', `${n}.json`));

function ok(value: SignalValue | undefined) {
  if (value?.status !== 'ok') throw new Error(`expected an ok signal, got ${JSON.stringify(value)}`);
  return value;
}

/** The four scripted rollouts of the bundled example, run for real, then both test signals on their candidates. */
describe('test signals on the bundled example', () => {
  let repo: ReturnType<typeof exampleRepo>;
  let work: ReturnType<typeof tempDir>;
  let batch: BatchResult;
  let signals: TestSignals;
  let baseDir: string;

  beforeAll(async () => {
    repo = exampleRepo();
    work = tempDir();
    baseDir = path.join(work.dir, 'trees');
    batch = await runBatch({
      repoDir: repo.dir, issue: 'Page counts drop the partial last page.', samples: 4, concurrency: 2,
      config: resolveConfig({ format: 'text' }), outDir: path.join(work.dir, 'out'), worktreeBaseDir: baseDir,
      model: await createModelFactory({ kind: 'scripts', files: SCRIPTS }),
    });
    signals = await testSignals(batch.snapshot, batch.candidates, { baseDir, concurrency: 2, testTimeoutMs: 60_000, reproTimeoutMs: 20_000 });
  });

  afterAll(async () => {
    if (batch) await releaseSnapshot(batch.snapshot);
    work?.cleanup();
    repo?.cleanup();
  });

  it('ran the four rollouts, verified them without a checkout of their own, and removed every workspace it made', () => {
    expect(batch.candidates.map((c) => [c.id, c.model, c.exitReason])).toEqual(NAMES.map((n, k) => [`r${k}`, `scripted-${n}`, 'submitted']));
    const repoDirs = existsSync(baseDir) ? readdirSync(baseDir) : [];
    const left = repoDirs.flatMap((d) => readdirSync(path.join(baseDir, d)));
    // Under overlays the rollouts and all five test trees stood on one shared checkout, which stays for the next run.
    expect(left).toEqual(batch.isolation.kind === 'overlay' ? ['.shared'] : []);
    if (batch.isolation.kind === 'overlay') expect(readdirSync(path.join(baseDir, repoDirs[0], '.shared')).sort()).toEqual(['c0', 'c0.json']);
    expect(git(repo.dir, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
  });

  it('regression: the snapshot fails 4 tests (the bug); plus-one breaks 3 that passed, range-check none', () => {
    const { regression } = signals;
    const baseline = regression.baseline!;
    // pytest ids end in `::test_x`, unittest's in `.test_x`: the runner is whichever the machine has.
    const passing = [...baseline.results].filter(([, s]) => s === 'passed').map(([id]) => id.split(/::|\./).at(-1)).sort();
    expect(passing).toEqual(['test_empty_sequence_first_page', 'test_exact_multiple', 'test_first_page', 'test_no_items', 'test_rejects_bad_arguments']);
    expect(baseline.results.size).toBe(9);
    const [ceil, mathCeil, plusOne, rangeCheck] = ['r0', 'r1', 'r2', 'r3'].map((id) => ok(regression.values.get(id)));
    expect([ceil.score, ceil.detail]).toEqual([0, '5/5 tests that passed before still pass; now passes 4 that failed before']);
    expect([mathCeil.score, mathCeil.detail]).toEqual([0, '5/5 tests that passed before still pass; now passes 4 that failed before']);
    expect([plusOne.score, plusOne.detail]).toEqual([-3, 'breaks 3 of 5 passing tests: test_exact_multiple, test_no_items, test_empty_sequence_first_page; now passes 4 that failed before; of the broken tests, all test code it changes']);
    // Range-check changes only paginate's bound, which no test that passed before exercises: it breaks none
    // and fixes none, so this signal alone cannot tell it from a correct fix.
    expect([rangeCheck.score, rangeCheck.detail]).toEqual([0, '5/5 tests that passed before still pass']);
    expect((plusOne.data?.broken as string[]).map((id) => id.split(/::|\./).slice(-2).join('.')))
      .toEqual(['PageCountTest.test_exact_multiple', 'PageCountTest.test_no_items', 'PaginateTest.test_empty_sequence_first_page']);
  });

  it('reproduction: the scripts\' reproduce_issue.py fails on the snapshot, passes with the correct fixes only', () => {
    const { reproduction } = signals;
    expect(reproduction.tests.map((t) => [t.id, t.authors])).toEqual([['reproduce_issue.py', ['r0', 'r1', 'r2', 'r3']]]);
    expect(reproduction.valid).toEqual(['reproduce_issue.py']);
    // It asserts the expected page counts: the correct fixes pass, plus-one and range-check fail. Range-check
    // never touches page_count, so its failure is the snapshot's own; plus-one's counts are wrong another way.
    expect(['r0', 'r1', 'r2', 'r3'].map((id) => ok(reproduction.values.get(id)).detail)).toEqual([
      'passes 1/1 reproduction tests', 'passes 1/1 reproduction tests', 'passes 0/1 reproduction tests',
      'passes 0/1 reproduction tests; 1 fails as on the snapshot (exit 1: AssertionError: 3)',
    ]);
    expect(['r2', 'r3'].map((id) => ok(reproduction.values.get(id)).data?.unchanged)).toEqual([[], ['reproduce_issue.py']]);
    expect(['r0', 'r1', 'r2', 'r3'].map((id) => ok(reproduction.values.get(id)).score)).toEqual([1, 1, 0, 0]);
  });

  it('reproduction: a script edited in the native tool-call format is a test of its own', async () => {
    const asserting: Message = {
      role: 'assistant', content: 'Make the reproduction check the expected values.',
      toolCalls: [{
        id: 'call_x', name: 'file_editor', arguments: JSON.stringify({
          command: 'str_replace', path: '/testbed/reproduce_issue.py',
          old_str: 'print(page_count(31, 10), page_count(3, 10), page_count(0, 10))\n',
          new_str: 'assert (page_count(3, 10), page_count(1, 10)) == (1, 1)\n',
        }),
      }],
    };
    const candidates = batch.candidates.map((c) => (c.id === 'r0' ? { ...c, messages: [...c.messages, asserting] } : c));
    const trees = await prepareCandidateTrees(batch.snapshot, candidates, { baseDir });
    try {
      const result = await reproductionSignal(trees, candidates, { concurrency: 2, timeoutMs: 20_000 });
      expect(result.tests.map((t) => t.authors)).toEqual([['r0'], ['r1', 'r2', 'r3']]);
      expect(result.valid).toHaveLength(2);
      const scores = ['r0', 'r1', 'r2', 'r3'].map((id) => ok(result.values.get(id)));
      expect(scores.map((v) => v.detail)).toEqual([
        'passes 2/2 reproduction tests', 'passes 2/2 reproduction tests', 'passes 0/2 reproduction tests',
        // Two failures as on the snapshot, for two reasons: neither is named
        'passes 0/2 reproduction tests; 2 fail as on the snapshot',
      ]);
      const failed = scores[2].data?.failed as { testId: string; why: string }[];
      expect(failed).toHaveLength(2);
      expect(failed[0].why).toMatch(/^exit 1: AssertionError/);
    } finally {
      await trees.dispose();
    }
  });

  it('an empty patch gets no test run, while its trajectory\'s script still tests the others; all empty runs nothing', async () => {
    const emptied = batch.candidates.map((c) => (c.id === 'r1' ? { ...c, patch: '' } : c));
    const runs: string[] = [];
    const runner = new NodeProcessRunner();
    const counting: ProcessRunner = {
      shell: (command, options) => { runs.push(command); return runner.shell(command, options); },
      exec: (program, args, options) => { runs.push([program, ...args].join(' ')); return runner.exec(program, args, options); },
    };
    const result = await testSignals(batch.snapshot, emptied, { baseDir, concurrency: 2, testTimeoutMs: 60_000, reproTimeoutMs: 20_000, runner: counting });
    for (const signal of [result.regression, result.reproduction]) {
      expect(signal.values.get('r1')).toEqual({ status: 'unavailable', reason: 'empty patch: nothing to test' });
    }
    expect(result.reproduction.tests.map((t) => t.authors)).toEqual([['r0', 'r1', 'r2', 'r3']]);
    expect(ok(result.reproduction.values.get('r0')).detail).toBe('passes 1/1 reproduction tests');
    expect(ok(result.regression.values.get('r2')).score).toBe(-3);
    // The script runs on the snapshot and on the three candidates that change something, not on r1
    expect(runs.filter((r) => r.includes('reproduce_issue.py'))).toHaveLength(4);

    runs.length = 0;
    const none = await testSignals(batch.snapshot, batch.candidates.map((c) => ({ ...c, patch: '' })), { baseDir, runner: counting });
    expect([...none.regression.values.values(), ...none.reproduction.values.values()])
      .toEqual(Array(8).fill({ status: 'unavailable', reason: 'empty patch: nothing to test' }));
    expect(runs).toEqual([]);
  });
});
