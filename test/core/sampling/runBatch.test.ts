import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { resolveConfig } from '../../../src/core/agent/config.js';
import { Emitter } from '../../../src/core/events.js';
import { createModelFactory } from '../../../src/core/llm/createModel.js';
import { ScriptedModel } from '../../../src/core/llm/scriptedModel.js';
import type { BatchEvent } from '../../../src/core/sampling/batchTypes.js';
import { runBatch, type RunBatchOptions } from '../../../src/core/sampling/runBatch.js';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import type { IsolationKind } from '../../../src/core/worktree/batchMarker.js';
import { changedFiles as changedFilesOf } from '../../../src/core/worktree/patch.js';
import { releaseSnapshot } from '../../../src/core/worktree/snapshot.js';
import { pruneStale } from '../../../src/core/worktree/worktrees.js';
import { commandsMentioning, eventually, namespaceAlive, namespaceOf, overlaysMissing, processesMentioning } from '../../helpers/overlays.js';
import { EXAMPLE_DIR, exampleRepo, git, PROJECT_ROOT, tempDir } from '../../helpers/tempRepo.js';
import { hashUserState } from '../../helpers/treeHash.js';

const SCRIPTS = ['fix-ceil', 'fix-math-ceil', 'fix-plus-one', 'fix-range-check'].map((n) => path.join(EXAMPLE_DIR, 'scripted', `${n}.json`));
const ISSUE = readFileSync(path.join(EXAMPLE_DIR, 'issue.md'), 'utf8');

// Namespaces seen while a batch ran; each must be gone once it returns.
const namespaces: { pid: number; mnt: string }[] = [];
type Setup = ReturnType<typeof setup>;

/** The example repository with uncommitted work of every kind, as a user would have it. */
function setup(cleanups: (() => void)[]) {
  const repo = exampleRepo();
  const work = tempDir();
  cleanups.push(repo.cleanup, work.cleanup);
  writeFileSync(path.join(repo.dir, 'README.md'), '# pager\n\nEdited, not staged.\n');
  writeFileSync(path.join(repo.dir, 'NOTES.md'), 'staged new file\n');
  git(repo.dir, 'add', 'NOTES.md');
  writeFileSync(path.join(repo.dir, 'scratch notes with spaces.txt'), 'untracked\n');
  git(repo.dir, 'stash', 'list');
  const baseDir = path.join(work.dir, 'worktrees');
  return { repo: repo.dir, baseDir, outDir: path.join(work.dir, 'out'), before: hashUserState(repo.dir) };
}

async function options(s: Setup, kind: IsolationKind, extra: Partial<RunBatchOptions> = {}): Promise<RunBatchOptions> {
  const events = extra.events ?? new Emitter<BatchEvent>();
  events.subscribe((e) => {
    if (e.type === 'worktrees_ready') for (const p of e.paths) if (namespaceOf(p)) namespaces.push(namespaceOf(p)!);
  });
  return {
    repoDir: s.repo, issue: ISSUE, samples: 4, config: resolveConfig({ format: 'text' }), outDir: s.outDir,
    worktreeBaseDir: s.baseDir, model: await createModelFactory({ kind: 'scripts', files: SCRIPTS }), isolation: kind, ...extra, events,
  };
}

/** The user's state is byte-identical, and nothing of the batch is left: no worktree, folder, mount or process. */
async function expectUntouched(s: Setup, kind: IsolationKind) {
  expect(hashUserState(s.repo)).toEqual(s.before);
  expect(git(s.repo, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
  const left = existsSync(s.baseDir) ? readdirSync(s.baseDir).flatMap((d) => readdirSync(path.join(s.baseDir, d))) : [];
  // What stays on purpose: the one shared checkout the next batch of this snapshot reuses.
  expect(left.filter((name) => name !== '.shared')).toEqual([]);
  const shared = existsSync(s.baseDir) ? readdirSync(s.baseDir).filter((d) => existsSync(path.join(s.baseDir, d, '.shared'))) : [];
  expect(shared.flatMap((d) => readdirSync(path.join(s.baseDir, d, '.shared'))).sort()).toEqual(kind === 'overlay' ? ['c0', 'c0.json'] : []);
  for (const ns of namespaces.splice(0)) expect(await eventually(() => !namespaceAlive(ns))).toBe(true);
  expect(processesMentioning(s.baseDir)).toEqual([]);
}

describe.each<IsolationKind>(['overlay', 'worktree'])('runBatch with %s workspaces', (kind) => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  let missing: string | null = null;
  beforeAll(async () => { missing = kind === 'overlay' ? await overlaysMissing() : null; });
  function needs(context: TestContext) {
    if (missing) context.skip(missing);
  }

  it('runs N rollouts, returns their patches, and leaves the user state byte-identical', async (context) => {
    needs(context);
    const s = setup(cleanups);
    const events = new Emitter<BatchEvent>();
    const seen: string[] = [];
    events.subscribe((e) => seen.push(e.type));
    const result = await runBatch({ ...(await options(s, kind, { events })), concurrency: 2, seed: 100 });
    expect(namespaces).toHaveLength(kind === 'overlay' ? 4 : 0);
    expect(result.candidates.map((c) => [c.id, c.exitReason, c.steps])).toEqual([
      ['r0', 'submitted', 7], ['r1', 'submitted', 8], ['r2', 'submitted', 7], ['r3', 'submitted', 7]]);
    const [ceil, mathCeil, plusOne, rangeCheck] = result.candidates;
    expect(ceil.patch).toContain('+    return (total + per_page - 1) // per_page');
    expect(mathCeil.patch).toContain('+import math');
    expect(plusOne.patch).toContain('+    return total // per_page + 1');
    expect(rangeCheck.patch).toContain('number > pages + 1');
    for (const c of result.candidates) {
      expect(c.changedFiles).toEqual(['pager/core.py']);
      expect(c.patch).not.toContain('reproduce_issue.py');
      expect(c.patch).not.toContain('NOTES.md'); // the user's uncommitted work is the base, not part of the patch
      expect(c.seed).toBe(100 + Number(c.id.slice(1)));
      expect(existsSync(c.trajectoryFile!)).toBe(true);
    }
    expect(result.diversity.distinct).toBe(4);
    expect(result.stopped).toBe(false);
    expect(result.isolation).toEqual({ kind, reason: `${kind}s were asked for` });
    expect(seen.filter((t) => t === 'isolation')).toHaveLength(1);
    expect(seen.filter((t) => t === 'rollout_end')).toHaveLength(4);
    expect(seen[0]).toBe('batch_start');
    expect(seen.at(-1)).toBe('batch_end');
    // The snapshot carries the user's uncommitted work.
    expect(git(s.repo, 'show', `${result.snapshot.commit}:NOTES.md`)).toBe('staged new file\n');
    expect(git(s.repo, 'show', `${result.snapshot.commit}:scratch notes with spaces.txt`)).toBe('untracked\n');
    await releaseSnapshot(result.snapshot);
    expect(git(s.repo, 'for-each-ref', 'refs/entropo')).toBe('');
    await expectUntouched(s, kind);
  });

  it('cancels midway: every rollout stops, workspaces are removed, the user state is unchanged', async (context) => {
    needs(context);
    const s = setup(cleanups);
    const slow = await ScriptedModel.fromFile(SCRIPTS[0], { delayMs: 150 });
    const controller = new AbortController();
    const events = new Emitter<BatchEvent>();
    events.subscribe((e) => { if (e.type === 'step') controller.abort(); });
    const started = Date.now();
    const result = await runBatch({ ...(await options(s, kind, { events })), model: () => slow.fork(), concurrency: 2, signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.stopped).toBe(true);
    expect(result.candidates.map((c) => [c.exitReason, c.message])).toEqual(result.candidates.map(() => ["cancelled", expect.anything()]));
    expect(result.candidates[3].message).toMatch(/Not started: the batch was cancelled/);
    await releaseSnapshot(result.snapshot);
    await expectUntouched(s, kind);
  });

  it('a rollout that crashes does not take the batch down', async (context) => {
    needs(context);
    const s = setup(cleanups);
    const factory = await createModelFactory({ kind: 'scripts', files: SCRIPTS });
    const result = await runBatch({ ...(await options(s, kind)), model: (k) => {
      if (k === 1) throw new Error('model factory exploded');
      return factory(k);
    } });
    expect(result.candidates.map((c) => c.exitReason)).toEqual(['submitted', 'crashed', 'submitted', 'submitted']);
    expect(result.candidates[1].message).toContain('model factory exploded');
    expect(result.candidates[1].patch).toBe('');
    await releaseSnapshot(result.snapshot);
    await expectUntouched(s, kind);
  });

  it('stops rollouts when the batch token budget is used up', async (context) => {
    needs(context);
    const s = setup(cleanups);
    const result = await runBatch({ ...(await options(s, kind)), concurrency: 1, budget: { tokens: 3_000 } });
    expect(result.stopped).toBe(true);
    expect(result.candidates[0].exitReason).toBe('limits_exceeded');
    expect(result.candidates.slice(1).map((c) => c.message)).toEqual(Array(3).fill('Not started: the batch budget was used up.'));
    // Marked apart from a rollout's own limits: the shared budget is no choice of the model's (decisions.ts).
    expect(result.candidates.map((c) => c.batchBudget)).toEqual([true, true, true, true]);
    await releaseSnapshot(result.snapshot);
    await expectUntouched(s, kind);
  });

  it('gives each rollout the user\'s installed dependencies, importing the workspace\'s own code, and leaves them out of its patch', async (context) => {
    needs(context);
    const support = await detectSandbox();
    if (!support.available) context.skip(`needs bubblewrap, without which no dependencies are linked: ${support.reason ?? 'no sandbox here'}`);
    const s = setup(cleanups);
    // The user's environment, made by hand and kept out of git, with the project installed editable into it.
    writeFileSync(path.join(s.repo, '.git', 'info', 'exclude'), '.venv/\n');
    execFileSync('python3', ['-m', 'venv', '--without-pip', '.venv'], { cwd: s.repo });
    const lib = readdirSync(path.join(s.repo, '.venv', 'lib'))[0];
    writeFileSync(path.join(s.repo, '.venv', 'lib', lib, 'site-packages', '__editable__.pager-0.1.pth'), `${s.repo}\n`);
    s.before = hashUserState(s.repo);
    const script = new ScriptedModel([
      { content: '<function=execute_bash>\n<parameter=cmd>cd / && "$OLDPWD/.venv/bin/python" -c "import os, pager; print(\'from\', os.path.dirname(pager.__file__))"; cd "$OLDPWD" && echo "# note" >> pager/core.py</parameter>\n</function>' },
      { content: '<function=finish>\n<parameter=command>submit</parameter>\n</function>' },
    ]);
    const result = await runBatch({ ...(await options(s, kind)), samples: 2, model: () => script.fork(),
      containment: { mode: 'required', sandbox: { network: 'off' } } });
    for (const c of result.candidates) {
      const seen = c.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
      const from = /^from (\S+)$/m.exec(seen)?.[1];
      expect(from).toMatch(/\/pager$/);
      expect(from?.startsWith(s.repo)).toBe(false);
      expect(changedFilesOf(c.patch)).toEqual(['pager/core.py']);
    }
    await releaseSnapshot(result.snapshot);
    await expectUntouched(s, kind);
  });

  it('hides the user\'s checkout from the rollouts but for its git folder and the dependencies linked in', async (context) => {
    needs(context);
    const support = await detectSandbox();
    if (!support.available) context.skip(`needs bubblewrap: ${support.reason ?? 'no sandbox here'}`);
    // Outside the temp folder, which the sandbox's private /tmp would hide anyway.
    const root = mkdtempSync(path.join('/var/tmp', 'entropo-visible-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    cpSync(path.join(EXAMPLE_DIR, 'repo'), root, { recursive: true });
    writeFileSync(path.join(root, '.gitignore'), '.env\nnode_modules/\n');
    git(root, 'init', '-q', '-b', 'main');
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'initial');
    writeFileSync(path.join(root, '.env'), 'DATABASE_PASSWORD=ENV-SECRET-MATERIAL\n');
    mkdirSync(path.join(root, 'node_modules', 'padder'), { recursive: true });
    writeFileSync(path.join(root, 'node_modules', 'padder', 'index.js'), 'module.exports = "PADDER-LOADED";\n');
    const script = new ScriptedModel([
      { content: `<function=execute_bash>\n<parameter=cmd>cat ${root}/.env; ls ${root}; node -e 'console.log(require("padder"))'; git log --oneline | wc -l</parameter>\n</function>` },
      { content: '<function=finish>\n<parameter=command>submit</parameter>\n</function>' },
    ]);
    const work = tempDir();
    cleanups.push(work.cleanup);
    const result = await runBatch({ repoDir: root, issue: ISSUE, samples: 1, config: resolveConfig({ format: 'text' }), outDir: path.join(work.dir, 'out'),
      worktreeBaseDir: path.join(work.dir, 'trees'), isolation: kind, model: () => script.fork(), containment: { mode: 'required', sandbox: { network: 'off' } } });
    await releaseSnapshot(result.snapshot);
    const seen = result.candidates[0].messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
    expect(seen).not.toContain('ENV-SECRET-MATERIAL');
    // Of the checkout only the linked dependencies show, and they load; git works (the snapshot over the commit).
    expect(seen).toContain('[STDOUT]\nnode_modules\nPADDER-LOADED\n2\n');
  });

  it('contains each rollout: its commands write only in its own workspace', async (context) => {
    needs(context);
    const support = await detectSandbox();
    if (!support.available) context.skip(`needs bubblewrap: ${support.reason ?? 'no sandbox here'}`);
    const s = setup(cleanups);
    const outside = tempDir();
    cleanups.push(outside.cleanup);
    const target = path.join(outside.dir, 'escaped.txt');
    // A filter driver that runs a script of the tree, as git runs it while reading each patch
    writeFileSync(path.join(s.repo, 'strip.sh'), '#!/bin/sh\ncat\n', { mode: 0o755 });
    // and one that must write in the tree, which fails contained: said, as a warning of the rollout
    writeFileSync(path.join(s.repo, '.gitattributes'), '*.txt filter=strip\n*.w filter=writer\n');
    s.before = hashUserState(s.repo);
    const config = { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'filter.strip.clean', GIT_CONFIG_VALUE_0: './strip.sh',
      GIT_CONFIG_KEY_1: 'filter.writer.clean', GIT_CONFIG_VALUE_1: 'touch .written && cat' };
    Object.assign(process.env, config);
    cleanups.push(() => { for (const name of Object.keys(config)) delete process.env[name]; });
    const warnings: string[] = [];
    const driver = `echo '#!/bin/sh' > strip.sh; echo 'echo pwned >> ${target}' >> strip.sh; echo cat >> strip.sh`;
    const script = new ScriptedModel([
      { content: `<function=execute_bash>\n<parameter=cmd>echo pwned > ${target}; echo inside > inside.txt; echo w > out.w; ${driver}; pwd</parameter>\n</function>` },
      { content: '<function=finish>\n<parameter=command>submit</parameter>\n</function>' },
    ]);
    const result = await runBatch({ ...(await options(s, kind)), samples: 2, model: () => script.fork(),
      containment: { mode: 'required', sandbox: { network: 'off' }, onWarning: (m) => warnings.push(m) } });
    expect(existsSync(target)).toBe(false);
    expect(warnings.filter((w) => /filter driver .* failed in its sandbox/.test(w)).map((w) => w.slice(0, 3)).sort()).toEqual(['r0:', 'r1:']);
    for (const c of result.candidates) {
      expect(c.exitReason).toBe('submitted');
      expect(c.patch).toContain('+++ b/inside.txt');
      expect(c.patch).toContain('+echo pwned');
    }
    await releaseSnapshot(result.snapshot);
    await expectUntouched(s, kind);
  });

  it('after a batch process is killed with SIGKILL, its namespace ends with it and the next start prunes its workspaces', async (context) => {
    needs(context);
    const s = setup(cleanups);
    const slowScript = path.join(path.dirname(s.outDir), 'slow.json');
    const script = JSON.parse(readFileSync(SCRIPTS[0], 'utf8')) as Record<string, unknown>;
    writeFileSync(slowScript, JSON.stringify({ ...script, delayMs: 2_000 }));
    const input = { repo: s.repo, issue: ISSUE, script: slowScript, samples: 3, outDir: s.outDir, baseDir: s.baseDir, isolation: kind };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/helpers/batchMain.ts'), JSON.stringify(input)],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no step seen: ${stderr}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('step r')) { clearTimeout(timer); resolve(); }
      });
    });
    const paths = JSON.parse(/^workspaces (.*)$/m.exec(stdout)![1]) as string[];
    const held = paths.map(namespaceOf).filter((ns) => ns !== null);
    expect(held).toHaveLength(kind === 'overlay' ? 3 : 0);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    // Nothing outlives the process: the namespace, its mounts and the processes in it end with it.
    for (const ns of held) expect(await eventually(() => !namespaceAlive(ns))).toBe(true);
    expect(await eventually(() => processesMentioning(s.baseDir).length === 0)).toBe(true);
    const leftover = readdirSync(s.baseDir).flatMap((d) => readdirSync(path.join(s.baseDir, d))).filter((n) => n !== '.shared');
    expect(leftover).toHaveLength(1);
    expect(git(s.repo, 'worktree', 'list').trim().split('\n')).toHaveLength(kind === 'overlay' ? 1 : 4);
    const report = await pruneStale(s.repo, { baseDir: s.baseDir });
    expect(report.batches).toHaveLength(1);
    expect(report.refs).toHaveLength(1);
    expect(git(s.repo, 'for-each-ref', 'refs/entropo')).toBe('');
    await expectUntouched(s, kind);
  });
});

describe('runBatch', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('refuses a directory that is not a git repository, saying how to proceed', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const error = await runBatch({ ...(await options({ repo: dir.dir, baseDir: path.join(dir.dir, 'w'), outDir: path.join(dir.dir, 'o'), before: new Map() }, 'worktree')) })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/is not inside a git working tree/);
    expect(error?.message).toMatch(/git init/);
  });

  it('after `entropo run` is killed with SIGKILL, the next start prunes its workspaces', async () => {
    const s = setup(cleanups);
    const slowScript = path.join(path.dirname(s.outDir), 'slow.json');
    const script = JSON.parse(readFileSync(SCRIPTS[0], 'utf8')) as Record<string, unknown>;
    writeFileSync(slowScript, JSON.stringify({ ...script, delayMs: 2_000 }));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'run', '--repo', s.repo,
      '--issue', ISSUE, '--script', slowScript, '--samples', '3', '--out', s.outDir, '--allow-unsandboxed'],
    { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: path.dirname(s.baseDir) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no step seen: ${stderr}`)), 30_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('step 1:')) { clearTimeout(timer); resolve(); }
      });
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    // The run says how it isolates its rollouts, before it makes them.
    const kind: IsolationKind = /^entropo: workspaces: overlays /m.test(stderr) ? 'overlay' : 'worktree';
    expect(stderr).toMatch(/^entropo: workspaces: (overlays|worktrees) \(.+\)$/m);
    const batches = path.join(path.dirname(s.baseDir), 'entropo-worktrees');
    // What it had started may still be ending after the kill, which on a loaded machine can take seconds; a survivor is named.
    expect(await eventually(() => processesMentioning(batches).length === 0, 15_000), `still running: ${commandsMentioning(batches).join(' | ')}`).toBe(true);
    const leftover = readdirSync(batches).flatMap((d) => readdirSync(path.join(batches, d))).filter((n) => n !== '.shared');
    expect(leftover).toHaveLength(1);
    expect(git(s.repo, 'worktree', 'list').trim().split('\n')).toHaveLength(kind === 'overlay' ? 1 : 4);
    const report = await pruneStale(s.repo, { baseDir: batches });
    expect(report.batches).toHaveLength(1);
    expect(report.refs).toHaveLength(1);
    expect(git(s.repo, 'for-each-ref', 'refs/entropo')).toBe('');
    await expectUntouched({ ...s, baseDir: batches }, kind);
  });
});
