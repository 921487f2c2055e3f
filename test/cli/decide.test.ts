/**
 * `entropo apply` and `entropo reject`: the panel's decisions on the command line, recorded with the same
 * meaning, so that run -> apply/reject -> export makes training data without the editor.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { EXAMPLE_DIR, exampleRepo, git, tempDir } from '../helpers/tempRepo.js';

const SCRIPTS = ['fix-ceil', 'fix-math-ceil', 'fix-plus-one', 'fix-range-check'].map((n) => path.join(EXAMPLE_DIR, 'scripted', `${n}.json`));
const R0 = '    return (total + per_page - 1) // per_page\n';
const R1 = '    return math.ceil(total / per_page)\n';

describe('entropo apply and entropo reject', () => {
  const repo = exampleRepo();
  const home = tempDir();
  const env = { HOME: home.dir };
  const core = () => readFileSync(path.join(repo.dir, 'pager', 'core.py'), 'utf8');
  const cli = (args: string[]) => runCli(args, env, repo.dir);
  const decisions = () => readFileSync(path.join(home.dir, 'decisions.txt'), 'utf8');
  let store = '';

  beforeAll(async () => {
    // No --out and no --store: the run goes where a user's would, in this test's own home.
    const run = await cli(['run', '--issue', path.join(EXAMPLE_DIR, 'issue.md'), ...SCRIPTS.flatMap((s) => ['--script', s]), '--samples', '4', '--allow-unsandboxed', '--no-judge']);
    expect(run.code).toBe(0);
    store = /^Recorded as task \S+ in (.+)$/m.exec(run.stdout)![1];
    expect(run.stdout).toMatch(/^Record your decision: entropo apply r[01] --run \S+ \(applies and records it\), entropo reject ID\.\.\. --run \S+$/m);
  }, 180_000);

  afterAll(() => {
    repo.cleanup();
    home.cleanup();
  });

  const recorded = async () => {
    const lines = await cli(['export', '--format', 'entropo-kto', '--out', path.join(home.dir, 'kto.jsonl'), '--store', store]);
    writeFileSync(path.join(home.dir, 'decisions.txt'), lines.stdout);
    return readFileSync(path.join(home.dir, 'kto.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as { label: boolean; meta: { candidate_id: string } }).map((l) => `${l.meta.candidate_id}:${l.label}`).sort();
  };

  it('apply writes the candidate as an uncommitted change and records it; applying another replaces it, no rejection', async () => {
    const first = await cli(['apply', 'r1']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^entropo: applied r1 in .*, uncommitted; recorded in task task-\S+\.\n$/);
    expect(core()).toContain(R1);
    expect(git(repo.dir, 'status', '--porcelain')).toBe(' M pager/core.py\n');
    const second = await cli(['apply', 'r0']);
    expect(second.stdout).toMatch(/^entropo: replaced r1 with r0 in /);
    expect(core()).toContain(R0);
    expect(core()).not.toContain(R1);
    expect(await recorded()).toEqual(['r0:true']);
    expect((await cli(['apply', 'r0'])).stderr).toBe('entropo: r0 is already applied (`entropo reject r0` takes it out and rejects it).\n');
    const unknown = await cli(['apply', 'r9']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringMatching(/has no candidate r9; its candidates are r\d, r\d, r\d, r\d\.\n$/)]);
  }, 60_000);

  it('reject records each one; the DPO export pairs the applied one over them', async () => {
    const result = await cli(['reject', 'r2', 'r3']);
    expect(result.stdout).toBe('entropo: recorded that r2 is rejected.\nentropo: recorded that r3 is rejected.\n');
    expect(await recorded()).toEqual(['r0:true', 'r2:false', 'r3:false']);
    const dpo = path.join(home.dir, 'dpo.jsonl');
    expect((await cli(['export', '--format', 'entropo-dpo', '--out', dpo, '--store', store])).code).toBe(0);
    expect(readFileSync(dpo, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { meta: { candidate_ids: string[] } }).meta.candidate_ids.join('>')).sort())
      .toEqual(['r0>r2', 'r0>r3']);
    expect(decisions()).toMatch(/^Wrote 3 labelled trajectories/);
  }, 60_000);

  it('reject of the applied candidate the user edited since: recorded, and the change stays with the edit', async () => {
    const file = path.join(repo.dir, 'pager', 'core.py');
    writeFileSync(file, `${core()}# my note\n`);
    const result = await cli(['reject', 'r0']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("entropo: recorded that r0 is rejected. r0's change was not taken out: pager/core.py changed since it was applied, and your edits are never overwritten. "
      + 'Take it out by hand (Source Control), or put those files back as r0 left them.\n');
    expect(core()).toContain(R0);
    expect(core()).toContain('# my note');
    expect(await recorded()).toEqual(['r0:false', 'r2:false', 'r3:false']);
    // Nothing is applied now: apply starts from the snapshot again, once the files are back as they were.
    git(repo.dir, 'checkout', '-q', '--', 'pager/core.py');
    expect((await cli(['apply', 'r1'])).stdout).toMatch(/^entropo: applied r1 in /);
  }, 60_000);

  it('what became of the applied candidate since is recorded first: taken back by hand is reverted (no label), committed is kept (accepted)', async () => {
    // r1 is applied (the test before). Discarded by hand, then r0 applied: no Replace of a change that is gone.
    git(repo.dir, 'checkout', '-q', '--', 'pager/core.py');
    const next = await cli(['apply', 'r0']);
    expect(next.stdout).toMatch(/^entropo: r1 was taken back since it was applied; recorded as reverted\.\nentropo: applied r0 in /);
    expect(core()).toContain(R0);
    expect(await recorded()).toEqual(['r0:true', 'r2:false', 'r3:false']);
    // Committed as it is: an acceptance. Applying another does not reverse the commit.
    git(repo.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'fix page_count');
    const after = await cli(['apply', 'r1']);
    expect(after.stdout).toBe('entropo: r0 was committed; recorded as kept.\n');
    expect([after.code, after.stderr]).toEqual([1, expect.stringMatching(/^entropo: Not applied: pager\/core\.py changed since the candidates were made/)]);
    expect(core()).toContain(R0);
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');
    expect(await recorded()).toEqual(['r0:true', 'r2:false', 'r3:false']);
  }, 60_000);
});

describe('entropo apply and entropo reject without a record to go by', () => {
  const repo = exampleRepo();
  const home = tempDir();
  const out = path.join(home.dir, 'run');
  const core = () => readFileSync(path.join(repo.dir, 'pager', 'core.py'), 'utf8');
  const cli = (args: string[]) => runCli(args, { HOME: home.dir }, repo.dir);

  beforeAll(async () => {
    const run = await cli(['run', '--issue', path.join(EXAMPLE_DIR, 'issue.md'), ...SCRIPTS.flatMap((s) => ['--script', s]), '--samples', '4',
      '--allow-unsandboxed', '--no-judge', '--no-record', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Not recorded \(--no-record\)\.$/m);
  }, 180_000);

  afterAll(() => {
    repo.cleanup();
    home.cleanup();
  });

  it('with recording off, Replace and Reject still take the applied candidate out, found in the working tree', async () => {
    expect((await cli(['apply', 'r1', '--run', out])).stdout).toMatch(/^entropo: applied r1 in .*; not recorded: the run was not recorded/);
    const replaced = await cli(['apply', 'r0', '--run', out]);
    expect([replaced.code, replaced.stdout]).toEqual([0, expect.stringMatching(/^entropo: replaced r1 with r0 in /)]);
    expect(core()).toContain(R0);
    expect(core()).not.toContain(R1);
    const rejected = await cli(['reject', 'r0', '--run', out]);
    expect(rejected.stdout).toMatch(/^entropo: r0 is rejected, but not recorded: /);
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');
  }, 60_000);

  it('a candidate applied with git apply, as the report suggests, is taken out by a Replace and not applied twice', async () => {
    const patch = path.join(out, 'patches', 'r1.patch');
    git(repo.dir, 'apply', patch);
    const again = await cli(['apply', 'r1', '--run', out]);
    expect(again.stdout).toMatch(/^entropo: r1 is in the working tree already \(applied by hand\); not recorded: /);
    expect(core()).toContain(R1);
    expect((await cli(['apply', 'r0', '--run', out])).stdout).toMatch(/^entropo: replaced r1 with r0 in /);
    expect(core()).toContain(R0);
    expect(core()).not.toContain(R1);
    expect(git(repo.dir, 'diff', '--stat').trim().split('\n')).toHaveLength(2);
  }, 60_000);
});
