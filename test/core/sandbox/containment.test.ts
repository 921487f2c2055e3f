import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcessRunner } from '../../../src/core/node/nodeProcessRunner.js';
import { SandboxedProcessRunner } from '../../../src/core/sandbox/sandboxedProcessRunner.js';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import type { SandboxSupport } from '../../../src/core/sandbox/sandboxTypes.js';
import { cleanup, git, hostProcesses, repoWithWorktree, sandbox, tempDir, write } from './helpers.js';

const KEY = 'sk-test-4f7a9c2e1b8d';

describe.skipIf(!sandbox.available)('SandboxedProcessRunner: containment', () => {
  let worktree: string;
  let repo: string;
  let elsewhere: string;
  let home: string;
  let store: string;
  let runner: SandboxedProcessRunner;
  const run = (cmd: string, env?: Record<string, string>) => runner.shell(cmd, { cwd: worktree, timeoutMs: 20_000, env });

  beforeAll(async () => {
    const support = await detectSandbox();
    ({ repo, worktree } = repoWithWorktree({ 'a.py': 'x = 1\n', '.vscode/settings.json': '{"entropo.sandbox": "required"}\n' }));
    elsewhere = tempDir('entropo-sbx-elsewhere-');
    write(elsewhere, { 'target.txt': 'original\n' });
    // Outside the system temp folder, so that the private /tmp is not what hides it.
    home = tempDir('entropo-sbx-home-', '/var/tmp');
    write(home, {
      '.ssh/id_rsa': 'PRIVATE-KEY-MATERIAL\n',
      '.aws/credentials': '[default]\naws_secret_access_key=AWS-SECRET-MATERIAL\n',
      '.netrc': 'machine example.com password NETRC-SECRET-MATERIAL\n',
      '.config/gh/hosts.yml': 'oauth_token: GH-SECRET-MATERIAL\n',
      '.bashrc': 'export ENTROPO_API_KEY=BASHRC-SECRET-MATERIAL\n',
      '.profile': 'export GITHUB_TOKEN=PROFILE-SECRET-MATERIAL\n',
      '.local/state/entropo/store/0123456789abcdef/records-2026-12.jsonl': '{"issue": "OTHER-STORE-SECRET-MATERIAL"}\n',
      'settings.json': '{"entropo.apiBase": "http://localhost"}\n',
      'notes.txt': 'visible note\n',
    });
    store = join(home, 'store');
    write(store, { 'records.jsonl': '{"id": 1}\n' });
    runner = new SandboxedProcessRunner({
      writable: [worktree], home, secrets: [KEY],
      hiddenPaths: [store, join(home, 'settings.json')],
      readOnly: [join(worktree, '.vscode')],
    }, support);
  });

  afterAll(async () => {
    await runner.dispose();
    cleanup();
  });

  it('writes the worktree but nothing outside it', async () => {
    const varTmp = `/var/tmp/entropo-sbx-escape-${process.pid}`;
    const result = await run([
      'echo ok > inside.txt',
      `echo pwned > ${elsewhere}/target.txt`,
      `echo pwned > ${home}/notes.txt`,
      `echo pwned > ${varTmp}`,
      'echo pwned > /etc/entropo-escape',
      `echo pwned > ${repo}/a.py`,
      'echo done',
    ].join('; '));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('done\n');
    expect(readFileSync(join(worktree, 'inside.txt'), 'utf8')).toBe('ok\n');
    expect(readFileSync(join(elsewhere, 'target.txt'), 'utf8')).toBe('original\n');
    expect(readFileSync(join(home, 'notes.txt'), 'utf8')).toBe('visible note\n');
    expect(readFileSync(join(repo, 'a.py'), 'utf8')).toBe('x = 1\n');
    expect(existsSync(varTmp)).toBe(false);
    expect(existsSync('/etc/entropo-escape')).toBe(false);
    // Files of the user are read-only; other temp folders do not exist in the private /tmp, and a write to
    // the main repository (in a temp folder here) lands in the private /tmp.
    expect(result.stderr.match(/Read-only file system/g)).toHaveLength(3);
    expect(result.stderr).toContain(`${elsewhere}/target.txt: No such file or directory`);
  });

  it('cannot change the kernel\'s settings, even as root', async () => {
    // A write would change the host: ask whether one could be made, without making it.
    const result = await run('for f in /proc/sys/vm/stat_interval /proc/sys/kernel/core_pattern /proc/sysrq-trigger; do [ -e $f ] && { [ -w $f ] && echo "writable $f" || echo "read-only $f"; }; done');
    expect(result.stdout).toContain('read-only /proc/sys/kernel/core_pattern');
    expect(result.stdout).not.toContain('writable');
  });

  it('cannot reach the kernel\'s keyrings, which no namespace separates: not the session\'s, not the user\'s', async (context) => {
    const calls = { x64: { addKey: 248, keyctl: 250, getpid: 39 }, arm64: { addKey: 217, keyctl: 219, getpid: 172 } }[process.arch as 'x64' | 'arm64'];
    if (!calls) context.skip(`the seccomp filter is written for x64 and arm64, not ${process.arch}`);
    // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING / KEY_SPEC_USER_KEYRING, 0), add_key("user", ...), getpid().
    // A key that did get added is unlinked again (KEYCTL_UNLINK), so that a failing run leaves nothing behind.
    const probe = (prints: string[]) => ['import ctypes, os', 'libc = ctypes.CDLL(None, use_errno=True)',
      'def call(*args, unlink=False):', '    r = libc.syscall(*args)',
      `    if unlink and r >= 0: libc.syscall(${calls.keyctl}, 9, r, ctypes.c_long(-3))`,
      '    return "ok" if r >= 0 else os.strerror(ctypes.get_errno())', `print(${prints.join(', ')}, sep="|")`].join('\n');
    const keyrings = [`call(${calls.keyctl}, 0, ctypes.c_long(-3), 0)`, `call(${calls.keyctl}, 0, ctypes.c_long(-4), 0)`];
    // On the host only the lookups.
    const host = await new NodeProcessRunner().exec('python3', ['-c', probe(keyrings)], { cwd: worktree, timeoutMs: 20_000 });
    if (host.stdout.trim() !== 'ok|ok') context.skip(`this machine gives no keyring to reach: ${host.stdout.trim()}${host.stderr.trim()}`);
    const all = probe([...keyrings, `call(${calls.addKey}, b"user", b"entropo-probe", b"v", 1, ctypes.c_long(-3), unlink=True)`, `call(${calls.getpid})`]);
    // Twice: the first command starts its own sandbox, the next one gets the sandbox prepared meanwhile.
    for (let i = 0; i < 2; i++) {
      const inside = await runner.exec('python3', ['-c', all], { cwd: worktree, timeoutMs: 20_000 });
      expect(inside.stdout.trim()).toBe('Operation not permitted|Operation not permitted|Operation not permitted|ok');
    }
  });

  it('shows the repository\'s git config without its credentials: no token of a remote\'s URL, no extraHeader', async () => {
    const other = repoWithWorktree({ 'a.py': 'x = 1\n' });
    git(other.repo, 'remote', 'add', 'origin', 'https://bot:ghp_REMOTE-SECRET-MATERIAL@example.com/org/app.git');
    git(other.repo, 'config', 'http.https://example.com/.extraheader', 'AUTHORIZATION: basic HEADER-SECRET-MATERIAL');
    const own = new SandboxedProcessRunner({ writable: [other.worktree], home }, await detectSandbox());
    try {
      const result = await own.shell(`git config --get remote.origin.url; cat ${other.repo}/.git/config; git log --oneline | wc -l`, { cwd: other.worktree, timeoutMs: 20_000 });
      expect(result.stdout).not.toContain('SECRET-MATERIAL');
      expect(result.stdout.split('\n')[0]).toBe('https://example.com/org/app.git');
      expect(result.stdout.trim().split('\n').at(-1)).toBe('1');
      // The user's own git still has them.
      expect(git(other.repo, 'config', '--get', 'remote.origin.url')).toContain('REMOTE-SECRET-MATERIAL');
    } finally {
      await own.dispose();
    }
  });

  it('gives each runner a private /tmp that lasts across its commands', async () => {
    const marker = `entropo-sbx-private-${process.pid}`;
    expect((await run(`mkdir -p /tmp/${marker} && echo kept > /tmp/${marker}/f && ls /tmp | grep -c entropo-sbx-elsewhere`)).stdout).toBe('0\n');
    expect((await run(`cat /tmp/${marker}/f`)).stdout).toBe('kept\n');
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
  });

  it('hides the secrets of the home folder but not the rest of it', async () => {
    const result = await run('cat ~/notes.txt; cat ~/.ssh/id_rsa ~/.aws/credentials ~/.netrc ~/.config/gh/hosts.yml ~/.bashrc ~/.profile; '
      + 'cat ~/.local/state/entropo/store/*/records-*.jsonl; '
      + 'find ~/.ssh ~/.aws ~/.config ~/.local/state/entropo -mindepth 1 | wc -l; echo k > ~/.ssh/authorized_keys', { ...process.env as Record<string, string>, HOME: home });
    expect(result.stdout).toBe('visible note\n0\n');
    expect(result.stdout + result.stderr).not.toMatch(/SECRET-MATERIAL|PRIVATE-KEY/);
    // Hidden folders are empty, hidden files read as empty.
    expect(result.stderr.match(/No such file or directory/g)).toHaveLength(4);
    expect(result.stderr).toContain('Read-only file system');
    expect(existsSync(join(home, '.ssh', 'authorized_keys'))).toBe(false);
  });

  it('keeps the store, the settings and the worktree\'s .git out of reach', async () => {
    const result = await run([
      `cat ${store}/records.jsonl`, `echo '{"id": 2}' >> ${store}/records.jsonl`, `cat ${home}/settings.json`,
      `echo '{}' > ${home}/settings.json`, 'echo \'{"entropo.sandbox": "off"}\' > .vscode/settings.json',
      'echo "gitdir: /tmp/evil" > .git', 'rm -f .git', 'echo end',
    ].join('; '));
    expect(result.stdout).toBe('end\n');
    expect(readFileSync(join(store, 'records.jsonl'), 'utf8')).toBe('{"id": 1}\n');
    expect(readFileSync(join(home, 'settings.json'), 'utf8')).toBe('{"entropo.apiBase": "http://localhost"}\n');
    expect(readFileSync(join(worktree, '.vscode/settings.json'), 'utf8')).toBe('{"entropo.sandbox": "required"}\n');
    expect(readFileSync(join(worktree, '.git'), 'utf8')).toMatch(/^gitdir: /);
    expect(result.stderr).toContain(`${store}/records.jsonl: No such file or directory`);
    expect(result.stderr.match(/Read-only file system|Device or resource busy/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('does not see the API key, whatever the variable is called, nor other processes\' environments', async () => {
    const env = { ...process.env as Record<string, string>, ENTROPO_API_KEY: KEY, MY_MODEL_SETTING: KEY,
      PROXY_URL: `https://user:${KEY}@proxy.example`, HARMLESS: 'keep-me' };
    // This process holds the key too, as the editor's extension host would.
    process.env.MY_MODEL_SETTING = KEY;
    try {
      const result = await run(`env; cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n" | grep -c "${KEY}"; `
        + 'ls -d /proc/[0-9]* | wc -l', env);
      const [leaks, processes] = result.stdout.trim().split('\n').slice(-2).map(Number);
      expect(result.stdout.split('\n').slice(0, -3).join('\n')).not.toContain(KEY);
      expect(result.stdout).toContain('HARMLESS=keep-me');
      expect(result.stdout).not.toMatch(/ENTROPO_API_KEY|MY_MODEL_SETTING|PROXY_URL/);
      expect(leaks).toBe(0);
      // Only the sandbox's own processes are visible: its init, bash and the pipeline (not this process).
      expect(processes).toBeLessThanOrEqual(6);
      expect(hostProcesses('')).toBeGreaterThan(processes);
    } finally {
      delete process.env.MY_MODEL_SETTING;
    }
  });

  it('runs git status, diff and log in a linked worktree, and refuses git writes', async () => {
    write(worktree, { 'a.py': 'x = 2\n' });
    const result = await run('git status --short; git diff --stat; git log --oneline | wc -l');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(' M a.py');
    expect(result.stdout).toContain('a.py | 2 +-');
    expect(result.stdout.trim().split('\n').pop()).toBe('1');
    const add = await run('git add a.py');
    expect(add.exitCode).not.toBe(0);
    expect(add.stderr).toMatch(/Read-only file system/);
    expect(git(worktree, 'status', '--short')).toContain(' M a.py');
  });

  it('runs node', async () => {
    const result = await run('node -e "console.log([1, 2, 3].reduce((a, b) => a + b))"');
    expect(result).toMatchObject({ exitCode: 0, stdout: '6\n', timedOut: false });
  });
});

describe.skipIf(!sandbox.available)('SandboxedProcessRunner: timeouts and normal work', () => {
  let worktree: string;
  let runner: SandboxedProcessRunner;

  let support: SandboxSupport;

  beforeAll(async () => {
    support = await detectSandbox();
    ({ worktree } = repoWithWorktree({}, resolve('examples/pagination/repo')));
    runner = new SandboxedProcessRunner({ writable: [worktree] }, support);
  });

  afterAll(async () => {
    await runner.dispose();
    cleanup();
  });

  it('runs the example repository\'s unittest suite exactly as it runs unsandboxed', async () => {
    const options = { cwd: worktree, timeoutMs: 60_000 };
    const direct = await new NodeProcessRunner().shell('python3 -m unittest', options);
    const sandboxed = await runner.shell('python3 -m unittest', options);
    expect(direct.stderr).toMatch(/Ran 9 tests/);
    expect(sandboxed.exitCode).toBe(direct.exitCode);
    expect(sandboxed.stderr.replace(/in [\d.]+s/, '')).toBe(direct.stderr.replace(/in [\d.]+s/, ''));
  });

  it('kills the whole process tree on timeout', async () => {
    const marker = `31.${process.pid}`;
    const result = await runner.shell(`sleep ${marker} & sleep ${marker} & sleep ${marker}`, { cwd: worktree, timeoutMs: 1500 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(10_000);
    expect(hostProcesses(`sleep ${marker}`)).toBe(0);
  });

  it('stops background children when the command ends, even ones that left the process group', async () => {
    const marker = `32.${process.pid}`;
    const result = await runner.shell(`setsid sleep ${marker} & (sleep ${marker} &); echo started`, { cwd: worktree, timeoutMs: 20_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'started\n', timedOut: false });
    expect(result.durationMs).toBeLessThan(10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(hostProcesses(`sleep ${marker}`)).toBe(0);
  });

  it('reports a cancel through the AbortSignal as cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runner.shell('sleep 30', { cwd: worktree, timeoutMs: 20_000, signal: controller.signal });
    expect(result).toMatchObject({ cancelled: true, timedOut: false });
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it('keeps a worktree writable when it lies inside a hidden folder, and the rest of that folder hidden', async () => {
    const home = tempDir('entropo-sbx-home2-', '/var/tmp');
    write(home, { '.config/gh/hosts.yml': 'oauth_token: GH-SECRET-MATERIAL\n', '.config/entropo/worktrees/r0/a.txt': 'a\n' });
    const inside = join(home, '.config/entropo/worktrees/r0');
    const nested = new SandboxedProcessRunner({ writable: [inside], home }, support);
    const result = await nested.shell(`echo b >> a.txt; cat a.txt; cat ${home}/.config/gh/hosts.yml; echo x > ${home}/.config/x`,
      { cwd: inside, timeoutMs: 10_000 });
    await nested.dispose();
    expect(result.stdout).toBe('a\nb\n');
    expect(result.stderr).toContain('hosts.yml: No such file or directory');
    expect(result.stderr).toContain('Read-only file system');
    expect(readFileSync(join(inside, 'a.txt'), 'utf8')).toBe('a\nb\n');
  });

  it('refuses a worktree that does not exist', async () => {
    const missing = new SandboxedProcessRunner({ writable: [join(worktree, 'missing')] }, support);
    try {
      await expect(missing.shell('true', { cwd: worktree, timeoutMs: 5000 })).rejects.toThrow(/does not exist/);
      mkdirSync(join(worktree, 'missing'));
      expect((await missing.shell('echo ok', { cwd: worktree, timeoutMs: 5000 })).stdout).toBe('ok\n');
    } finally {
      await missing.dispose();
    }
  });
});
