import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { git, gitEnv, gitResult } from '../../../src/core/worktree/git.js';
import { cleanup, makeRepo } from './repo.js';

afterAll(cleanup);

const saved = { GIT_DIR: process.env.GIT_DIR, GIT_INDEX_FILE: process.env.GIT_INDEX_FILE, GIT_WORK_TREE: process.env.GIT_WORK_TREE };
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('git', () => {
  it('ignores GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE inherited from the parent unless set on purpose', async () => {
    const mine = makeRepo({ 'mine.txt': 'mine\n' });
    const other = makeRepo({ 'other.txt': 'other\n' });
    process.env.GIT_DIR = `${other}/.git`;
    process.env.GIT_WORK_TREE = other;
    process.env.GIT_INDEX_FILE = `${other}/.git/index`;

    expect((await git(['ls-files'], { cwd: mine })).trim()).toBe('mine.txt');
    expect(gitEnv()).not.toHaveProperty('GIT_DIR');
    expect(gitEnv({ GIT_INDEX_FILE: '/x/index' }).GIT_INDEX_FILE).toBe('/x/index');
    expect(gitEnv().GIT_OPTIONAL_LOCKS).toBe('0');
  });

  it('returns stdout, feeds stdin, and reports the exit code of commands that answer with it', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const oid = await git(['hash-object', '--stdin'], { cwd: repo, input: 'hello\n' });
    expect(oid).toBe('ce013625030ba8dba906f756967f9e9ca394464a\n');
    const missing = await gitResult(['rev-parse', '-q', '--verify', 'refs/heads/nope'], { cwd: repo });
    expect(missing).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('throws GitFailed with the command and git’s error line', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const error = await git(['checkout', 'no-such-branch'], { cwd: repo }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.GitFailed);
    expect((error as AgentError).message).toContain('git checkout no-such-branch failed (exit 1)');
    expect((error as AgentError).message).toContain("error: pathspec 'no-such-branch' did not match");
  });

  it('stops git on timeout and on abort', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const slow = ['-c', 'alias.slow=!sleep 5', 'slow'];
    const started = Date.now();
    const timedOut = await git(slow, { cwd: repo, timeoutMs: 300 }).catch((e: unknown) => e);
    expect((timedOut as AgentError).reason).toBe(ErrorReason.GitFailed);
    expect((timedOut as AgentError).message).toContain('timed out after 300 ms');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const aborted = await git(slow, { cwd: repo, signal: controller.signal }).catch((e: unknown) => e);
    expect((aborted as AgentError).reason).toBe(ErrorReason.Cancelled);
    // Both return long before the 5 s sleep ends: the whole process group was stopped, not only git.
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
