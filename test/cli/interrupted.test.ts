/**
 * What the CLI says and keeps when the user stops it (Ctrl-C during the rollouts, during verification,
 * during `rank`) or mistypes a path: the truth about what was tested, nothing recommended on no evidence,
 * nothing lost, a usage error before any work instead of a failure after it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { segmentName } from '../../src/core/store/preferenceStore.js';
import { cliTempFolder, runCli, startCli } from '../helpers/cli.js';
import { startOpenAiServer } from '../helpers/openAiServer.js';
import { EXAMPLE_DIR, exampleRepo, git, tempDir } from '../helpers/tempRepo.js';

const FIX = path.join(EXAMPLE_DIR, 'scripted', 'fix-ceil.json');
const PLUS_ONE = path.join(EXAMPLE_DIR, 'scripted', 'fix-plus-one.json');
const ISSUE = path.join(EXAMPLE_DIR, 'issue.md');

interface Saved { outcome: { kind: string; summary: string; recommended?: string }; ranking: { recommended?: string }; status: string }
interface StoreLine { kind: string; status?: string }

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function setup(): { repo: string; work: string } {
  const repo = exampleRepo();
  const work = tempDir();
  cleanups.push(repo.cleanup, work.cleanup);
  return { repo: repo.dir, work: work.dir };
}

/** A recorded script whose one action runs `sleep 60`: a rollout that is still busy when the user stops the run. */
function sleeper(dir: string): string {
  const file = path.join(dir, 'sleeper.json');
  writeFileSync(file, JSON.stringify({ model: 'scripted-sleeper', responses: [{ content: 'Wait.\n\n<function=execute_bash>\n<parameter=cmd>sleep 60</parameter>\n</function>' }] }));
  return file;
}

function storeLines(dir: string): StoreLine[] {
  return readdirSync(dir).filter((f) => f.startsWith('records-')).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoreLine));
}

// The replies are this project's own recordings; where bubblewrap is missing they may run unsandboxed.
const run = (repo: string, work: string, extra: string[]) => ['run', '--repo', repo, '--issue', ISSUE, '--out', path.join(work, 'out'), '--store', path.join(work, 'store'),
  '--allow-unsandboxed', '--no-judge', ...extra];

describe('Ctrl-C', () => {
  it('during the rollouts: exit 130, the finished candidate named as untested and not recommended, the run recorded as cancelled', async () => {
    const { repo, work } = setup();
    // r0 breaks 3 tests; a run that tested it would never recommend it.
    const cli = startCli(run(repo, work, ['--samples', '2', '--concurrency', '2', '--script', PLUS_ONE, '--script', sleeper(work)]));
    await cli.waitForStderr(/\] 1\/2 r0 submitted/);
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code).toBe(130);
    const saved = JSON.parse(readFileSync(path.join(work, 'out', 'result.json'), 'utf8')) as Saved;
    expect(saved.outcome.kind).toBe('cancelled');
    expect(saved.outcome.recommended).toBeUndefined();
    expect(saved.ranking.recommended).toBeUndefined();
    expect(saved.outcome.summary).toBe('the run was cancelled: 1 of 2 rollouts were stopped before they finished; r0 finished before it but is untested (a cancelled run runs no tests and asks no model): review the diff before applying');
    expect(cli.output.stdout).not.toContain('Apply the best');
    expect(cli.output.stdout).toContain('Nothing to apply: the run was cancelled before its candidates were tested.');
    expect(storeLines(path.join(work, 'store')).filter((r) => r.kind === 'task').map((r) => r.status)).toEqual(['cancelled']);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('twice: quits at once, exit 130, and leaves no sandbox or scratch folder in the temp folder (only the workspaces the next start prunes)', async () => {
    const { repo, work } = setup();
    const tmp = path.join(work, 'tmp');
    mkdirSync(tmp);
    const cli = startCli(run(repo, work, ['--samples', '2', '--concurrency', '2', '--script', sleeper(work), '--script', sleeper(work)]), { TMPDIR: tmp });
    // Both rollouts' sandboxes are up and sleeping a moment after the workspaces are made.
    await cli.waitForStderr(/^entropo: snapshot /m);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(readdirSync(tmp).filter((name) => name.startsWith('entropo-sandbox-'))).toHaveLength(2);
    cli.child.kill('SIGINT');
    await cli.waitForStderr(/Ctrl-C again to quit at once/);
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code).toBe(130);
    expect(readdirSync(tmp).filter((name) => name !== 'entropo-worktrees')).toEqual([]);
  });

  // SIGTERM is what `timeout`, CI and a closed terminal (SIGHUP) send: it stops the run the same way.
  it.each(['SIGINT', 'SIGTERM'] as const)('%s during verification: exit 130, the patches and result.json written, the run recorded as cancelled, no snapshot ref left', async (signal) => {
    const { repo, work } = setup();
    const cli = startCli(run(repo, work, ['--samples', '1', '--script', FIX, '--test-command', 'sleep 60; python3 -m unittest']));
    await cli.waitForStderr(/^entropo: verifying 1 candidates \(signals: finished, validity, syntax, agreement, local, regression, reproduction\)$/m);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    cli.child.kill(signal);
    const { code } = await cli.exited;
    expect(code).toBe(130);
    const saved = JSON.parse(readFileSync(path.join(work, 'out', 'result.json'), 'utf8')) as Saved;
    expect(saved.outcome.kind).toBe('cancelled');
    expect(saved.outcome.summary).toMatch(/; r0 finished before it but is untested/);
    expect(cli.output.stderr).toMatch(/^entropo: verifying 1 candidates \(quick checks only, the run was cancelled: signals: finished, validity, syntax, agreement\)$/m);
    expect(readFileSync(path.join(work, 'out', 'patches', 'r0.patch'), 'utf8')).toContain('+    return (total + per_page - 1) // per_page');
    expect(storeLines(path.join(work, 'store')).filter((r) => r.kind === 'task').map((r) => r.status)).toEqual(['cancelled']);
    expect(git(repo, 'for-each-ref', 'refs/entropo')).toBe('');
  });

  it('while the model server has asked to wait 30 s before a retry (429, Retry-After): exit 130 within seconds, not after the wait', async () => {
    const { repo, work } = setup();
    const busy = { status: 429, headers: { 'retry-after': '30' } };
    const server = await startOpenAiServer({ failures: Array(10).fill(busy), retryAfterMs: null });
    cleanups.push(() => server.close());
    const cli = startCli(['run', '--repo', repo, '--issue', ISSUE, '--base-url', server.url, '--model', 'm', '--samples', '1', '--no-judge',
      '--out', path.join(work, 'out'), '--no-record', '--allow-unsandboxed']);
    const deadline = Date.now() + 60_000;
    while (server.requests.length === 0 && Date.now() < deadline && cli.child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(1);
    expect(cli.output.stderr).toMatch(/^entropo: cancelled: /m);
  });

  it('while the run is prepared (the snapshot): exit 130, nothing written or recorded, no snapshot ref or temporary index left', async () => {
    const { repo, work } = setup();
    // A git that takes its time over the snapshot's tree, as on a large repository.
    const slowGit = path.join(work, 'bin');
    mkdirSync(slowGit);
    writeFileSync(path.join(slowGit, 'git'), `#!/bin/sh\ncase " $* " in *" write-tree "*) sleep 30 ;; esac\nexec ${git(repo, '--exec-path').trim()}/git "$@"\n`, { mode: 0o755 });
    const cli = startCli(run(repo, work, ['--samples', '1', '--script', FIX]), { PATH: `${slowGit}:${process.env.PATH}` });
    await cli.waitForStderr(/^entropo: workspaces: /m);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const started = Date.now();
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(cli.output.stderr.trimEnd().split('\n').at(-1)).toBe('entropo: cancelled while the run was being prepared: no rollout ran, nothing was recorded');
    expect(existsSync(path.join(work, 'out', 'result.json'))).toBe(false);
    expect(existsSync(path.join(work, 'store')) ? storeLines(path.join(work, 'store')) : []).toEqual([]);
    expect(git(repo, 'for-each-ref', 'refs/entropo')).toBe('');
    expect(readdirSync(cliTempFolder()).filter((f) => f.startsWith('entropo-index-'))).toEqual([]);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('during rank: exit 130, says how far it got, and leaves no workspace behind', async () => {
    const { repo, work } = setup();
    const core = path.join(repo, 'pager', 'core.py');
    const before = readFileSync(core, 'utf8');
    writeFileSync(core, before.replace('return total // per_page', 'return (total + per_page - 1) // per_page'));
    const patch = git(repo, 'diff');
    writeFileSync(core, before);
    const input = path.join(work, 'candidates.jsonl');
    writeFileSync(input, `${JSON.stringify({ instance_id: 'slow', problem_statement: 'page_count is off by one.', test_command: 'sleep 60',
      candidates: [{ id: 'a', patch }, { id: 'b', patch: '' }] })}\n`);
    const cli = startCli(['rank', '--candidates', input, '--repo-dir', repo, '--out', path.join(work, 'ranked.jsonl'), '--allow-unsandboxed']);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code).toBe(130);
    expect(cli.output.stderr).toMatch(/^entropo: cancelled: 0 issue\(s\) ranked and 0 failed before the cancel, written to .*ranked\.jsonl; the rest not ranked$/m);
    const worktrees = path.join(cliTempFolder(), 'entropo-worktrees');
    const left = existsSync(worktrees) ? readdirSync(worktrees, { recursive: true }).map(String).filter((p) => /verify-/.test(p)) : [];
    expect(left).toEqual([]);
    expect(readdirSync(cliTempFolder()).filter((f) => f.startsWith('entropo-sandbox-'))).toEqual([]);
  });
});

describe('mistyped paths are usage errors before any rollout', () => {
  it('--issue naming no file, --out or --store naming a file, a missing --script, a --base-url that is no URL, an empty --model', async () => {
    const { repo, work } = setup();
    const file = path.join(work, 'a-file');
    writeFileSync(file, '');
    const base = ['run', '--repo', repo, '--script', FIX, '--samples', '1', '--allow-unsandboxed'];
    const typo = await runCli([...base, '--issue', path.join(work, 'isue.md'), '--out', path.join(work, 'out')]);
    expect([typo.code, typo.stderr]).toEqual([2, `entropo: --issue ${path.join(work, 'isue.md')}: no such file. Give the issue's file, or its text (in quotes, with spaces).\n`]);
    expect(existsSync(path.join(work, 'out'))).toBe(false);
    const folder = await runCli([...base, '--issue', work]);
    expect(folder.stderr).toMatch(/is a folder; give the issue's file or its text/);
    const binary = path.join(work, 'issue.bin');
    writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08]));
    expect(await runCli([...base, '--issue', binary])).toMatchObject({ code: 2, stderr: `entropo: --issue ${binary} is a binary file, not an issue's text.\n` });
    expect(await runCli([...base, '--issue', '-'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^entropo: --issue - \(standard input\) is not read/) });
    expect(await runCli([...base, '--issue', ISSUE, '--samples', '0x4'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/samples/) });
    const missing = path.join(work, 'no-script.json');
    expect(await runCli(['run', '--repo', repo, '--issue', ISSUE, '--script', missing])).toMatchObject({ code: 2, stderr: `entropo: --script ${missing}: no such file, or it cannot be read.\n` });
    const live = ['run', '--repo', repo, '--issue', ISSUE, '--out', path.join(work, 'out')];
    expect(await runCli([...live, '--base-url', 'localhost:8000', '--model', 'm'])).toMatchObject({ code: 2, stderr: 'entropo: --base-url must be an http(s) URL such as http://127.0.0.1:8000/v1, got "localhost:8000".\n' });
    expect(await runCli([...live, '--base-url', 'http://127.0.0.1:9/v1', '--model', ' '])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^entropo: Give --base-url and --model/) });
    const pasted = path.join(work, 'pasted.md');
    writeFileSync(pasted, `${readFileSync(ISSUE, 'utf8')}\n${'DEBUG pager.core: page rendered\n'.repeat(20_000)}`);
    const long = await runCli([...base, '--issue', pasted, '--out', path.join(work, 'out')]);
    expect([long.code, long.stderr]).toEqual([1, expect.stringMatching(/^entropo: The issue is too long for the model's context: .* a context of 65536 tokens leaves 49152 for the prompt\./)]);
    expect(long.stderr).not.toMatch(/rollout|r0/);
    const out = await runCli([...base, '--issue', ISSUE, '--out', path.join(file, 'out')]);
    expect([out.code, out.stderr]).toEqual([2, `entropo: --out ${path.join(file, 'out')}: ${file} is a file, not a folder.\n`]);
    const store = await runCli([...base, '--issue', ISSUE, '--out', path.join(work, 'out'), '--store', file]);
    expect([store.code, store.stderr]).toEqual([2, `entropo: --store ${file}: it is a file, not a folder.\n`]);
    expect(existsSync(path.join(work, 'out'))).toBe(false);
    // An --out of an earlier run: this run's files would sit among that run's (r2.patch of a run of two).
    const earlier = path.join(work, 'earlier');
    mkdirSync(path.join(earlier, 'patches'), { recursive: true });
    writeFileSync(path.join(earlier, 'result.json'), '{}\n');
    const reused = await runCli([...base, '--issue', ISSUE, '--out', earlier]);
    expect([reused.code, reused.stderr]).toEqual([2, `entropo: --out ${earlier} holds the results of an earlier run (patches, result.json); give a new folder, or remove it first.\n`]);
  });

  it('a store that cannot be written costs the record, not the run: the candidates are written and shown, and the note says why', async () => {
    const { repo, work } = setup();
    // The month's segment is a folder: every append to the store fails, after the rollouts and the ranking.
    mkdirSync(path.join(work, 'store', segmentName(new Date())), { recursive: true });
    const result = await runCli(run(repo, work, ['--samples', '1', '--script', FIX, '--no-tests']));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Note: The run is not recorded: the preference store in ${path.join(work, 'store')} could not be written \\(.*EISDIR`, 'm'));
    expect(result.stdout).toContain('Not recorded: the preference store could not be written (see the note above).');
    expect(result.stdout).toMatch(/^Apply the best with: /m);
    expect(readFileSync(path.join(work, 'out', 'patches', 'r0.patch'), 'utf8')).toContain('+    return (total + per_page - 1) // per_page');
  });

  it('run from a subfolder: the apply command names the repository\'s top level, and works', async () => {
    const { repo, work } = setup();
    const result = await runCli(run(path.join(repo, 'tests'), work, ['--samples', '1', '--script', FIX, '--no-tests']));
    expect(result.code).toBe(0);
    const command = /^Apply the best with: git -C (\S+) apply (\S+)$/m.exec(result.stdout);
    expect(command?.[1]).toBe(repo);
    git(work, '-C', command![1], 'apply', command![2]);
    expect(readFileSync(path.join(repo, 'pager', 'core.py'), 'utf8')).toContain('return (total + per_page - 1) // per_page');
  });

  it('stats and export on a store that does not exist say so, and export leaves --out as it was', async () => {
    const { work } = setup();
    const missing = path.join(work, 'no-store');
    const stats = await runCli(['stats', '--store', missing]);
    expect([stats.code, stats.stdout]).toEqual([0, `No preference store at ${missing}: nothing is recorded there (runs on this repository record into it; check --store or --repo).\n`]);
    const previous = path.join(work, 'prev.jsonl');
    writeFileSync(previous, '{"an": "earlier export"}\n');
    const exported = await runCli(['export', '--format', 'entropo-kto', '--store', missing, '--out', previous]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/^entropo: nothing exported: no preference store at /);
    expect(readFileSync(previous, 'utf8')).toBe('{"an": "earlier export"}\n');
    const repo = await runCli(['stats', '--repo', path.join(work, 'no-repo')]);
    expect([repo.code, repo.stderr]).toEqual([2, `entropo: --repo ${path.join(work, 'no-repo')} is not a directory.\n`]);
  });

  it('rank: candidates without an id or with the same id are refused per line; --out in a new folder is made, a folder refused', async () => {
    const { work } = setup();
    const input = path.join(work, 'in.jsonl');
    const line = (id: string, candidates: unknown[]) => JSON.stringify({ instance_id: id, problem_statement: 'x', candidates });
    writeFileSync(input, `${[line('dups', [{ id: 'a', patch: '' }, { id: 'a', patch: '' }]), line('noid', [{ patch: '' }]), line('ok', [{ id: 'a', patch: '' }, { id: 'b', patch: '' }])].join('\n')}\n`);
    const out = path.join(work, 'new', 'folder', 'ranked.jsonl');
    const ranked = await runCli(['rank', '--candidates', input, '--out', out, '--no-local']);
    expect(ranked.code).toBe(1);
    const records = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { instance_id: string; status: string; error?: string });
    expect(records.map((r) => [r.instance_id, r.status, r.error])).toEqual([
      ['dups', 'error', 'line 1: two candidates have the id "a"; ids must be unique.'],
      ['noid', 'error', 'line 2: candidates[0] needs an id (a non-empty string).'],
      ['ok', 'ranked', undefined],
    ]);
    const folder = await runCli(['rank', '--candidates', input, '--out', work]);
    expect([folder.code, folder.stderr]).toEqual([2, `entropo: --out ${work} is a folder; give the file to write.\n`]);
    const asInput = await runCli(['rank', '--candidates', work]);
    expect(asInput.code).toBe(2);
  });
});
