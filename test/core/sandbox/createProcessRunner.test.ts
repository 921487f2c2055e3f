import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { createProcessRunner, decideRunner, needsUnsandboxedConsent } from '../../../src/core/sandbox/createProcessRunner.js';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import type { RunnerPolicy, SandboxMode, SandboxSupport } from '../../../src/core/sandbox/sandboxTypes.js';
import { cleanup, sandbox, tempDir, write } from './helpers.js';

const missing = (reason: string): SandboxSupport =>
  ({ available: false, kind: 'bubblewrap', reason, limits: { memory: 'none', processes: 'none' } });
const present: SandboxSupport = { available: true, kind: 'bubblewrap', bwrapPath: '/usr/bin/bwrap', limits: { memory: 'cgroup', processes: 'cgroup' } };

afterAll(cleanup);

describe('decideRunner', () => {
  it.each<[SandboxMode, boolean, boolean, string]>([
    ['required', true, false, 'sandbox'],
    ['required', true, true, 'sandbox'],
    ['required', false, false, 'refuse'],
    ['required', false, true, 'refuse'],
    ['preferred', true, false, 'sandbox'],
    ['preferred', false, false, 'ask'],
    ['preferred', false, true, 'unsandboxed'],
    ['off', true, false, 'ask'],
    ['off', true, true, 'unsandboxed'],
    ['off', false, true, 'unsandboxed'],
  ])('mode %s, sandbox available %s, consent %s -> %s', (mode, available, allowUnsandboxed, kind) => {
    expect(decideRunner({ mode, allowUnsandboxed }, available ? present : missing('bwrap is missing.')).kind).toBe(kind);
  });

  it('says why in the refusal and in the question', () => {
    expect(decideRunner({ mode: 'required' }, missing('bwrap is missing.'))).toEqual({
      kind: 'refuse', reason: 'The sandbox is required but unavailable: bwrap is missing. Or set the sandbox mode to "preferred" '
        + '(--sandbox preferred, or the setting entropo.sandbox.mode) and allow running unsandboxed (--allow-unsandboxed, or entropo.sandbox.allowUnsandboxed).',
    });
    const ask = decideRunner({ mode: 'preferred' }, missing('bwrap is missing.'));
    expect(ask.kind === 'ask' && ask.reason).toContain('No sandbox is available (bwrap is missing.)');
  });
});

describe('createProcessRunner without a sandbox', () => {
  const worktree = tempDir('entropo-sbx-policy-');
  const policy = (mode: SandboxMode, extra: Partial<RunnerPolicy> = {}): RunnerPolicy =>
    ({ mode, sandbox: { writable: [worktree], secrets: ['sk-policy-secret-1234'] }, ...extra });

  it('asks for consent in preferred mode, with an error the caller can recognise', async () => {
    const error = await createProcessRunner(policy('preferred'), missing('no bwrap here.')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).reason).toBe(ErrorReason.Config);
    expect((error as AgentError).message).toContain('no bwrap here.');
    // The refusal names exactly how to consent, on the command line and in VS Code.
    expect((error as AgentError).message).toContain('--allow-unsandboxed');
    expect((error as AgentError).message).toContain('entropo.sandbox.allowUnsandboxed');
    expect(needsUnsandboxedConsent(error)).toBe(true);
  });

  it('refuses in required mode, whatever the consent', async () => {
    const error = await createProcessRunner(policy('required', { allowUnsandboxed: true }), missing('no bwrap here.')).catch((e: unknown) => e);
    expect((error as AgentError).message).toMatch(/^The sandbox is required but unavailable: no bwrap here\./);
    expect((error as AgentError).message).toContain('(--sandbox preferred, or the setting entropo.sandbox.mode) and allow running unsandboxed (--allow-unsandboxed, or entropo.sandbox.allowUnsandboxed)');
    expect(needsUnsandboxedConsent(error)).toBe(false);
  });

  it('falls back with consent, warns once per process, and still drops the secret from the environment', async () => {
    const warnings: string[] = [];
    const reason = `no bwrap (case ${process.pid}).`;
    const consented = policy('preferred', { allowUnsandboxed: true, onWarning: (m) => warnings.push(m) });
    const first = await createProcessRunner(consented, missing(reason));
    const second = await createProcessRunner(consented, missing(reason));
    expect([first.sandboxed, second.sandboxed]).toEqual([false, false]);
    expect(warnings).toEqual([`Commands run without a sandbox: ${reason}`]);
    const result = await first.shell('env > env.txt; echo ran', {
      cwd: worktree, timeoutMs: 10_000, env: { PATH: process.env.PATH ?? '', CONFIGURED: 'sk-policy-secret-1234', OTHER: 'kept' },
    });
    expect(result.stdout).toBe('ran\n');
    const env = readFileSync(join(worktree, 'env.txt'), 'utf8');
    expect(env).toContain('OTHER=kept');
    expect(env).not.toContain('sk-policy-secret-1234');
    await first.dispose();
  });

  it('needs consent for mode off even where a sandbox exists', async () => {
    const error = await createProcessRunner(policy('off'), present).catch((e: unknown) => e);
    expect(needsUnsandboxedConsent(error)).toBe(true);
    const runner = await createProcessRunner(policy('off', { allowUnsandboxed: true }), present);
    expect(runner.sandboxed).toBe(false);
  });
});

describe('detectSandbox', () => {
  it('reports a missing binary', async () => {
    const support = await detectSandbox({ bwrapPath: '/nonexistent/bwrap' });
    expect(support).toEqual({ available: false, kind: 'bubblewrap', reason: 'No bubblewrap executable at /nonexistent/bwrap.',
      limits: { memory: 'none', processes: 'none' } });
  });

  it('reports a bwrap that cannot make a sandbox, pointing at user namespaces', async () => {
    const dir = tempDir('entropo-sbx-fakebwrap-');
    write(dir, { bwrap: '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n' });
    const fake = join(dir, 'bwrap');
    chmodSync(fake, 0o755);
    const support = await detectSandbox({ bwrapPath: fake });
    expect(support.available).toBe(false);
    expect(support.reason).toMatch(/^bubblewrap cannot create a sandbox here \(bwrap: setting up uid map: Permission denied\)\. User namespaces/);
  });

  it('agrees with a direct run of bwrap, and is cached', async () => {
    const first = detectSandbox();
    expect(detectSandbox()).toBe(first);
    const support = await first;
    expect(support.available).toBe(sandbox.available);
    if (support.available) {
      expect(support.bwrapPath).toMatch(/\/bwrap$/);
      expect(['cgroup', 'rlimit']).toContain(support.limits.memory);
      expect(['cgroup', 'rlimit', 'none']).toContain(support.limits.processes);
    }
  });
});

describe.skipIf(!sandbox.available)('createProcessRunner with a sandbox', () => {
  it('builds a sandboxed runner in required mode', async () => {
    const worktree = tempDir('entropo-sbx-policy-');
    const outside = tempDir('entropo-sbx-policy-out-', '/var/tmp');
    const runner = await createProcessRunner({ mode: 'required', sandbox: { writable: [worktree] } });
    expect(runner.sandboxed).toBe(true);
    const result = await runner.shell(`echo in > in.txt; echo out > ${outside}/out.txt`, { cwd: worktree, timeoutMs: 10_000 });
    expect(result.stderr).toContain('Read-only file system');
    expect(readFileSync(join(worktree, 'in.txt'), 'utf8')).toBe('in\n');
    await runner.dispose();
  });
});
