import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { NodeWorkspace } from '../../../src/core/node/nodeWorkspace.js';
import { tempDir } from '../../helpers/tempRepo.js';

describe('NodeWorkspace path confinement', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function setup() {
    const root = tempDir();
    const outside = tempDir();
    cleanups.push(root.cleanup, outside.cleanup);
    mkdirSync(path.join(root.dir, 'src'));
    writeFileSync(path.join(root.dir, 'src', 'a.py'), 'x = 1\n');
    writeFileSync(path.join(outside.dir, 'secret.txt'), 'secret\n');
    return { ws: new NodeWorkspace(root.dir), outside: outside.dir };
  }

  async function refused(promise: Promise<unknown>) {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.PathOutsideWorkspace);
    expect((error as AgentError).message).toMatch(/outside the repository/);
  }

  it('resolves relative, absolute-inside and /testbed paths', async () => {
    const { ws } = setup();
    expect(await ws.resolve('src/a.py')).toBe(path.join(ws.root, 'src', 'a.py'));
    expect(await ws.resolve(path.join(ws.root, 'src/a.py'))).toBe(path.join(ws.root, 'src', 'a.py'));
    expect(await ws.resolve('/testbed/src/a.py')).toBe(path.join(ws.root, 'src', 'a.py'));
    expect(await ws.resolve('src/new/dir/file.py')).toBe(path.join(ws.root, 'src', 'new', 'dir', 'file.py'));
    expect(ws.relative(path.join(ws.root, 'src', 'a.py'))).toBe('src/a.py');
  });

  it('refuses .., absolute paths elsewhere, and symlinks that escape', async () => {
    const { ws, outside } = setup();
    await refused(ws.resolve('../x'));
    await refused(ws.resolve('src/../../x'));
    await refused(ws.resolve('/etc/passwd'));
    await refused(ws.resolve(path.join(outside, 'secret.txt')));
    symlinkSync(outside, path.join(ws.root, 'link'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(ws.root, 'src', 'file-link'));
    await refused(ws.resolve('link/secret.txt'));
    await refused(ws.resolve('link/new-file.txt'));
    await refused(ws.resolve('src/file-link'));
  });

  it('accepts a symlink that stays inside', async () => {
    const { ws } = setup();
    symlinkSync(path.join(ws.root, 'src'), path.join(ws.root, 'alias'));
    expect(await ws.resolve('alias/a.py')).toBe(path.join(ws.root, 'alias', 'a.py'));
  });
});
