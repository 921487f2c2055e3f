import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { EXAMPLE_DIR, exampleRepo, git, tempDir } from '../helpers/tempRepo.js';
import { hashUserState } from '../helpers/treeHash.js';

const SCRIPTS = ['fix-ceil', 'fix-math-ceil', 'fix-plus-one', 'fix-range-check'].map((n) => path.join(EXAMPLE_DIR, 'scripted', `${n}.json`));

const cli = runCli;

describe('entropo CLI', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('run: four rollouts on the example, ranked with the correct fixes first, recorded, user tree untouched', async () => {
    const repo = exampleRepo();
    const work = tempDir();
    cleanups.push(repo.cleanup, work.cleanup);
    const before = hashUserState(repo.dir);
    const store = path.join(work.dir, 'store');
    const result = await cli(['run', '--repo', repo.dir, '--issue', path.join(EXAMPLE_DIR, 'issue.md'), ...SCRIPTS.flatMap((s) => ['--script', s]),
      // The scripts are this project's own recordings; where bubblewrap is missing they may run unsandboxed.
      '--samples', '4', '--out', path.join(work.dir, 'out'), '--store', store, '--allow-unsandboxed']);
    expect(result.code).toBe(0);
    const table = result.stdout.split('\n');
    expect(table[0]).toMatch(/^rank\s+id\s+exit/);
    // The two correct fixes first (their order is the local verifier's), then range-check, then plus-one.
    const order = table.slice(1, 5).map((l) => l.split(/\s+/)[1]);
    expect(order.slice(0, 2).sort()).toEqual(['r0', 'r1']);
    expect(order.slice(2)).toEqual(['r3', 'r2']);
    expect(result.stdout).toMatch(/r2: dropped \(breaks more regression tests than the best\): breaks 3 of 5 passing tests/);
    expect(result.stdout).toMatch(/Recorded as task task-\S+ in /);
    expect(result.stderr).toMatch(/\[####################\] 4\/4/);
    expect(readFileSync(path.join(work.dir, 'out', 'patches', 'r0.patch'), 'utf8')).toContain('+    return (total + per_page - 1) // per_page');
    expect(result.stdout).toMatch(/r0: kept: .*local verifier 0\.\d\d/);
    const saved = JSON.parse(readFileSync(path.join(work.dir, 'out', 'result.json'), 'utf8')) as { ranking: { order: string[] }; outcome: { kind: string; recommended: string } };
    expect(saved.ranking.order).toEqual(order);
    expect(saved.outcome).toMatchObject({ kind: 'ready', recommended: order[0] });
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`entropo: ready: ${order[0]} is worth applying (4 of 4 candidates are fit)`);
    expect(result.stdout).toContain(`Apply the best with: git -C ${repo.dir} apply ${path.join(work.dir, 'out', 'patches', `${order[0]}.patch`)}`);
    expect(hashUserState(repo.dir)).toEqual(before);
    expect(git(repo.dir, 'for-each-ref', 'refs/entropo')).toBe('');
    const stats = await cli(['stats', '--store', store, '--json']);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ tasks: 1 });
  });

  it('run: explains a wrong command line and a dead endpoint in one line', async () => {
    const repo = exampleRepo();
    cleanups.push(repo.cleanup);
    const usage = await cli(['run', '--repo', repo.dir, '--issue', 'x', '--samples', '40', '--script', SCRIPTS[0]]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('entropo: --samples must be a number from 1 to 16, got "40".\n');
    const out = tempDir();
    cleanups.push(out.cleanup);
    const dead = await cli(['run', '--repo', repo.dir, '--issue', 'x', '--samples', '1', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--no-record',
      '--max-steps', '2', '--out', out.dir, '--allow-unsandboxed']);
    expect(dead.code).toBe(4);
    expect(dead.stderr).toMatch(/r0 model_error: .*127\.0\.0\.1:9/);
    expect(dead.stderr.trimEnd().split('\n').at(-1)).toMatch(/^entropo: failed: 1 of 1 rollouts failed: cannot reach the model server at http:\/\/127\.0\.0\.1:9\/v1 \(.+, 5 attempts\)/);
    const notRepo = tempDir();
    cleanups.push(notRepo.cleanup);
    const noGit = await cli(['run', '--repo', notRepo.dir, '--issue', 'x', '--script', SCRIPTS[0], '--no-record', '--allow-unsandboxed']);
    expect(noGit.code).toBe(1);
    expect(noGit.stderr).toMatch(/\nentropo: \S+ is not inside a git working tree.*git init/);
  });

  it('run: --isolation forces worktrees, says so in the log and result.json, and refuses an unknown kind', async () => {
    const repo = exampleRepo();
    const work = tempDir();
    cleanups.push(repo.cleanup, work.cleanup);
    const bad = await cli(['run', '--repo', repo.dir, '--issue', 'x', '--script', SCRIPTS[0], '--isolation', 'chroot']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('entropo: --isolation must be one of auto, overlay, worktree, got "chroot".\n');
    const out = path.join(work.dir, 'out');
    const result = await cli(['run', '--repo', repo.dir, '--issue', path.join(EXAMPLE_DIR, 'issue.md'), '--script', SCRIPTS[0], '--samples', '1',
      '--isolation', 'worktree', '--no-tests', '--no-record', '--out', out, '--allow-unsandboxed']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('worktrees were asked for');
    const saved = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as { batch: { isolation: unknown } };
    expect(saved.batch.isolation).toEqual({ kind: 'worktree', reason: 'worktrees were asked for' });
  });

  /** An example repository with rank input lines built from edits of its pager/core.py. */
  function rankSetup() {
    const repo = exampleRepo();
    const work = tempDir();
    cleanups.push(repo.cleanup, work.cleanup);
    const file = path.join(repo.dir, 'pager/core.py');
    const original = readFileSync(file, 'utf8');
    const patchFor = (to: string) => {
      writeFileSync(file, original.replace('return total // per_page', to));
      const patch = git(repo.dir, 'diff');
      writeFileSync(file, original);
      return patch;
    };
    const issue = readFileSync(path.join(EXAMPLE_DIR, 'issue.md'), 'utf8');
    const line = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({
      instance_id: id, problem_statement: issue, ...extra,
      candidates: [{ id: 'ceil', patch: patchFor('return (total + per_page - 1) // per_page') }, { id: 'plus-one', patch: patchFor('return total // per_page + 1') }],
    });
    return { repo, work, line, inFile: path.join(work.dir, 'in.jsonl'), out: path.join(work.dir, 'out.jsonl') };
  }

  it('rank: refuses to run the tests unsandboxed without consent, naming the flag, and runs them with it', async () => {
    const { repo, work, line, inFile, out } = rankSetup();
    writeFileSync(inFile, `${line('pager-1')}\n`);
    // A PATH with what the tests need but no bubblewrap: the machine as a user without it has it.
    const bin = path.join(work.dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['git', 'bash', 'sh', 'env', 'cat']) symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(bin, tool));
    // The interpreter itself, not a version manager's shim that needs its own PATH.
    symlinkSync(execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim(), path.join(bin, 'python3'));
    const refused = await cli(['rank', '--candidates', inFile, '--out', out, '--repo-dir', repo.dir], { PATH: bin });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^entropo: No sandbox is available \(bubblewrap is not installed.*Pass --allow-unsandboxed to do so\.\n$/s);
    expect(existsSync(out)).toBe(false);
    const off = await cli(['rank', '--candidates', inFile, '--repo-dir', repo.dir, '--sandbox', 'off']);
    expect([off.code, off.stdout]).toEqual([1, '']);
    expect(off.stderr).toMatch(/The sandbox is turned off.*Pass --allow-unsandboxed to do so\.\n$/s);
    // Static ranking runs no command of the candidates, so it needs no consent.
    expect((await cli(['rank', '--candidates', inFile], { PATH: bin })).code).toBe(0);
    const allowed = await cli(['rank', '--candidates', inFile, '--out', out, '--repo-dir', repo.dir, '--allow-unsandboxed'], { PATH: bin });
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/entropo: warning: Commands run without a sandbox: bubblewrap is not installed/);
    const ranked = JSON.parse(readFileSync(out, 'utf8')) as { ranking: string[]; signals: Record<string, Record<string, { status: string; score?: number }>> };
    expect(ranked.ranking[0]).toBe('ceil');
    expect(ranked.signals['plus-one'].regression).toMatchObject({ status: 'ok', score: -3 });
  });

  it('rank: an instance whose commit the checkout lacks is an error record, the others are ranked (two at a time), exit 1', async () => {
    const { repo, line, inFile, out } = rankSetup();
    const head = git(repo.dir, 'rev-parse', 'HEAD').trim();
    const missing = 'f'.repeat(40);
    writeFileSync(inFile, [line('first', { base_commit: head }), line('gone', { base_commit: missing }), 'not json', line('last')].join('\n'));
    const result = await cli(['rank', '--candidates', inFile, '--out', out, '--repo-dir', repo.dir, '--concurrency', '2', '--test-timeout', '120']);
    expect(result.code).toBe(1);
    const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { instance_id?: string; line?: number; status: string; reason?: string; error?: string; ranking?: string[] });
    const by = (id: string | undefined) => records.find((r) => r.instance_id === id)!;
    expect(records).toHaveLength(4);
    expect(by('gone')).toMatchObject({ status: 'error', reason: 'missing_commit', error: expect.stringMatching(new RegExp(`^base_commit ${missing} is not in the checkout at `)) });
    expect(records.find((r) => r.line === 3)).toMatchObject({ status: 'error', reason: 'invalid_input', error: 'line 3 is not valid JSON.' });
    for (const id of ['first', 'last']) expect(by(id)).toMatchObject({ status: 'ranked', ranking: ['ceil', 'plus-one'] });
    expect(result.stderr).toMatch(/entropo: could not rank gone \(missing_commit\): base_commit f{40} is not in the checkout/);
    // Every worktree made for the verifications is gone, and git keeps no record of them.
    expect(git(repo.dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(readdirSync(repo.dir)).not.toContain('.entropo');
  });

  it('rank: ranks candidates from JSON lines, with the checkout signals when given one', async () => {
    const repo = exampleRepo();
    const work = tempDir();
    cleanups.push(repo.cleanup, work.cleanup);
    const file = path.join(repo.dir, 'pager/core.py');
    const original = readFileSync(file, 'utf8');
    const patchFor = (from: string, to: string) => {
      writeFileSync(file, original.replace(from, to));
      const patch = git(repo.dir, 'diff');
      writeFileSync(file, original);
      return patch;
    };
    const input = {
      instance_id: 'pager-1', problem_statement: readFileSync(path.join(EXAMPLE_DIR, 'issue.md'), 'utf8'),
      candidates: [
        { id: 'plus-one', patch: patchFor('return total // per_page', 'return total // per_page + 1') },
        { id: 'ceil', patch: patchFor('return total // per_page', 'return (total + per_page - 1) // per_page') },
        { id: 'broken', patch: patchFor('return total // per_page', 'return (total // per_page') },
        { id: 'empty', patch: '' },
      ],
    };
    const inFile = path.join(work.dir, 'in.jsonl');
    writeFileSync(inFile, `${JSON.stringify(input)}\n`);
    const out = path.join(work.dir, 'out.jsonl');
    const result = await cli(['rank', '--candidates', inFile, '--out', out, '--repo-dir', repo.dir]);
    expect(result.code).toBe(0);
    const ranked = JSON.parse(readFileSync(out, 'utf8')) as { ranking: string[]; explanations: Record<string, string>; signals: Record<string, Record<string, { status: string; score?: number; reason?: string }>> };
    expect(ranked.ranking[0]).toBe('ceil');
    expect(ranked.signals.broken.syntax).toMatchObject({ status: 'ok' });
    expect(ranked.signals.broken.syntax.score).toBeLessThan(0);
    expect(ranked.signals['plus-one'].regression.score).toBe(-3);
    expect(ranked.explanations.empty).toMatch(/^unfit \(empty patch\)/);
    // The input carries no trajectories, its patches add no script and its issue shows no code block: the reason says all three.
    expect(ranked.signals.ceil.reproduction).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^no trajectories were given, no patch adds one \(a file named reproduce\*, .*\), and the issue shows no code$/) });
    const staticOnly = await cli(['rank', '--candidates', inFile]);
    const line = JSON.parse(staticOnly.stdout) as { signals: Record<string, Record<string, { status: string; reason?: string }>> };
    expect(line.signals.ceil.regression).toEqual({ status: 'unavailable', reason: 'needs a checkout of the repository' });
    expect(existsSync(out)).toBe(true);
  });

  it('rank: twelve issues at once are ranked without a listener warning (one cancel signal watched by all their processes)', async () => {
    const { repo, line, inFile, out } = rankSetup();
    writeFileSync(inFile, Array.from({ length: 12 }, (_, k) => line(`i${k}`)).join('\n'));
    const result = await cli(['rank', '--candidates', inFile, '--out', out, '--repo-dir', repo.dir, '--concurrency', '12', '--signals', 'validity,syntax']);
    expect(result.code).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(12);
    expect(result.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/);
  });

  it('rank: a --repo-dir that is no checkout fails before --out is touched, so an earlier run\'s results stay', async () => {
    const { work, line, inFile, out } = rankSetup();
    writeFileSync(inFile, `${line('pager-1')}\n`);
    writeFileSync(out, '{"earlier": "results"}\n');
    const result = await cli(['rank', '--candidates', inFile, '--out', out, '--repo-dir', path.join(work.dir, 'typo')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/typo does not exist or is not a folder/);
    expect(readFileSync(out, 'utf8')).toBe('{"earlier": "results"}\n');
    // An input with no line at all ranks nothing, and says so with an empty --out.
    writeFileSync(inFile, '');
    expect((await cli(['rank', '--candidates', inFile, '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('rank: refuses unknown --signals names with the list of valid ones', async () => {
    const work = tempDir();
    cleanups.push(work.cleanup);
    const inFile = path.join(work.dir, 'in.jsonl');
    writeFileSync(inFile, `${JSON.stringify({ instance_id: 'x', problem_statement: 'p', candidates: [{ id: 'a', patch: '' }] })}\n`);
    const bogus = await cli(['rank', '--candidates', inFile, '--signals', 'bogus,validity,xyz']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toBe('entropo: --signals names unknown signals "bogus", "xyz"; valid names: finished, validity, syntax, regression, reproduction, agreement, judge, local.\n');
    expect(bogus.stdout).toBe('');
    const good = await cli(['rank', '--candidates', inFile, '--signals', 'validity, finished']);
    expect(good.code).toBe(0);
    expect(Object.keys((JSON.parse(good.stdout) as { signals: { a: object } }).signals.a).sort()).toEqual(['finished', 'validity']);
  });
});
