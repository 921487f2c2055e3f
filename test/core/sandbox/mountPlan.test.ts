import { checkoutToHide } from '../../../src/core/sandbox/secretPaths.js';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapArgs, type MountInput } from '../../../src/core/sandbox/mountPlan.js';
import { sandboxEnv } from '../../../src/core/sandbox/sandboxEnv.js';
import { cleanup, repoWithWorktree, tempDir, write } from './helpers.js';

// Indexes of a mount operation (flag and destination) in the argument list, -1 when absent.
const at = (args: string[], flag: string, dest: string) => args.findIndex((a, i) => a === flag && args[i + (flag === '--tmpfs' || flag === '--remount-ro' ? 1 : 2)] === dest);

describe('bwrapArgs', () => {
  let worktree: string;
  let repo: string;
  let home: string;
  let base: MountInput;

  beforeAll(() => {
    ({ worktree, repo } = repoWithWorktree({ 'a.py': 'x = 1\n', '.entropo/state.json': '{}\n', 'secret.txt': 's\n' }));
    worktree = realpathSync(worktree);
    repo = realpathSync(repo);
    home = realpathSync(tempDir('entropo-sbx-planhome-', '/var/tmp'));
    write(home, { '.ssh/id_rsa': 'k', '.ssh/config': 'c', '.netrc': 'n' });
    base = { writable: [worktree], readOnly: [], hidden: [join(home, '.ssh'), join(home, '.ssh/id_rsa'), join(home, '.netrc'), join(home, '.aws')],
      privateTmp: '/var/tmp/private', emptyFile: '/var/tmp/empty', network: 'off', expose: [], home, cwd: worktree };
  });

  afterAll(cleanup);

  it('starts from a read-only host with private /dev, /proc and /tmp, and ends with namespaces and the cwd', async () => {
    const args = bwrapArgs(base);
    const kernel = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus'].flatMap((path) => ['--ro-bind-try', path, path]);
    expect(args.slice(0, 22)).toEqual(['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', ...kernel, '--bind', '/var/tmp/private', '/tmp']);
    expect(args.slice(-2)).toEqual(['--chdir', worktree]);
    for (const flag of ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--die-with-parent', '--new-session']) expect(args).toContain(flag);
    expect(args.join(' ')).toContain('--cap-drop ALL');
  });

  it('masks existing secrets only, a folder as a read-only tmpfs and a file as an empty file', async () => {
    const args = bwrapArgs(base);
    const ssh = join(home, '.ssh');
    expect(at(args, '--tmpfs', ssh)).toBeGreaterThan(0);
    expect(at(args, '--remount-ro', ssh)).toBeGreaterThan(at(args, '--tmpfs', ssh));
    expect(at(args, '--ro-bind', join(home, '.netrc'))).toBeGreaterThan(0);
    expect(args[at(args, '--ro-bind', join(home, '.netrc')) + 1]).toBe('/var/tmp/empty');
    // Inside a hidden folder already; and missing.
    expect(args).not.toContain(join(home, '.ssh/id_rsa'));
    expect(args).not.toContain(join(home, '.aws'));
  });

  it('binds the worktree writable, the shared git folder and the worktree\'s .git read-only', async () => {
    const args = bwrapArgs(base);
    const commonDir = join(repo, '.git');
    expect(at(args, '--bind', worktree)).toBeGreaterThan(at(args, '--tmpfs', join(home, '.ssh')));
    expect(at(args, '--ro-bind', commonDir)).toBeGreaterThan(at(args, '--bind', worktree));
    expect(at(args, '--ro-bind', join(worktree, '.git'))).toBeGreaterThan(at(args, '--bind', worktree));
    expect(args).not.toContain(join(commonDir, 'worktrees', 'r0'));
  });

  it('applies read-only and hidden paths inside the worktree after binding it', async () => {
    const args = bwrapArgs({ ...base, readOnly: [join(worktree, '.entropo')], hidden: [join(worktree, 'secret.txt')] });
    const bind = at(args, '--bind', worktree);
    expect(at(args, '--ro-bind', join(worktree, '.entropo'))).toBeGreaterThan(bind);
    expect(at(args, '--ro-bind', join(worktree, 'secret.txt'))).toBeGreaterThan(bind);
  });

  it('shows an exposed file again under a hidden folder, before the folder turns read-only', () => {
    const node = join(home, '.ssh', 'config');
    const args = bwrapArgs({ ...base, expose: [node] });
    const ssh = join(home, '.ssh');
    expect(at(args, '--ro-bind', node)).toBeGreaterThan(at(args, '--tmpfs', ssh));
    expect(at(args, '--ro-bind', node)).toBeLessThan(at(args, '--remount-ro', ssh));
  });

  it('skips secrets that the private /tmp hides anyway', async () => {
    const inTmp = tempDir('entropo-sbx-plan-hidden-');
    const args = bwrapArgs({ ...base, hidden: [inTmp] });
    expect(args).not.toContain(realpathSync(inTmp));
  });

  it('shares the host network only in mode on', async () => {
    expect(bwrapArgs({ ...base, network: 'allowlist', proxySocket: '/var/tmp/p.sock' })).toContain('--unshare-net');
    const on = bwrapArgs({ ...base, network: 'on' });
    expect(on).not.toContain('--unshare-net');
    const proxied = bwrapArgs({ ...base, network: 'allowlist', proxySocket: '/var/tmp/p.sock' });
    expect(at(proxied, '--ro-bind', '/tmp/.entropo-proxy.sock')).toBeGreaterThan(0);
  });
});

describe('sandboxEnv', () => {
  it('drops secrets by name and by value, session pointers, and points temp and cache folders inside', () => {
    const env = sandboxEnv({
      PATH: '/usr/bin', HOME: '/home/u', OPENAI_API_KEY: 'a', GITHUB_TOKEN: 'b', MY_SETTING: 'sk-abcdef123456',
      URL: 'https://u:sk-abcdef123456@h', SHORT: 'abc', DISPLAY: ':0', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1/bus',
      GIT_DIR: '/elsewhere', TMPDIR: '/var/folders/x',
    }, ['sk-abcdef123456', 'abc']);
    expect(env).toEqual({
      PATH: '/usr/bin', HOME: '/home/u', SHORT: 'abc', PAGER: 'cat', GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: 'true',
      TMPDIR: '/tmp', TMP: '/tmp', TEMP: '/tmp', XDG_CACHE_HOME: '/tmp/.cache',
    });
  });

  it('drops credentials by what they look like, whatever the variable is called', () => {
    const kept = { PATH: '/opt/sk-learn-models-2024-01-01-abcdef/bin:/usr/bin', PWD: '/work/app', NODE_ENV: 'test', HOMEPAGE: 'https://example.com/a@b',
      PROXY: 'http://proxy:3128', DSNAME: 'x', MODELS: '/srv/sk-image-classifier-experiments-v2', LOWER: 'akiaiosfodnn7example', NOTE: 'task-sk-0123456789abcdefghij' };
    const env = sandboxEnv({
      ...kept, DATABASE_URL: 'postgres://app:hunter2@db.internal/app', SENTRY_DSN: 'https://abc@o1.ingest.sentry.io/1', MYSQL_PWD: 'hunter2',
      DEPLOY: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n', GH: 'ghp_0123456789abcdefghijABCDEFGHIJ0123', AWS: 'AKIAIOSFODNN7EXAMPLE',
      STRIPE: 'sk_live_0123456789abcdefABCD', SLACK: 'xoxb-1234567890-abcdef', MODEL: 'sk-proj-0123456789abcdefghij',
      BEARER: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    });
    expect(Object.fromEntries(Object.entries(env).filter(([name]) => !['PAGER', 'GIT_PAGER', 'GIT_TERMINAL_PROMPT', 'GIT_EDITOR', 'TMPDIR', 'TMP', 'TEMP', 'XDG_CACHE_HOME'].includes(name))))
      .toEqual(kept);
  });
});

describe('checkoutToHide', () => {
  it('hides the user\'s checkout, unless it holds the home folder (dotfiles at ~) or is /', () => {
    expect(checkoutToHide('/home/u/proj', '/home/u')).toEqual(['/home/u/proj']);
    expect(checkoutToHide('/home/u', '/home/u')).toEqual([]);
    expect(checkoutToHide('/home/u/', '/home/u')).toEqual([]);
    expect(checkoutToHide('/home', '/home/u')).toEqual([]);
    expect(checkoutToHide('/', '/home/u')).toEqual([]);
    expect(checkoutToHide('/home/user2', '/home/u')).toEqual(['/home/user2']);
  });
});
