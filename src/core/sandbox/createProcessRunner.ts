/** Chooses how a workspace's commands run: sandboxed, unsandboxed with consent, or not at all. */
import { AgentError, ErrorReason } from '../errors.js';
import { NodeProcessRunner } from '../node/nodeProcessRunner.js';
import { cliFlag, editorKey } from '../settings/resolveSettings.js';
import type { MountNamespace, ProcessResult, ProcessRunner, RunOptions } from '../types.js';
import { detectSandbox } from './detectSandbox.js';
import { inNamespace } from './namespacedRunner.js';
import { SandboxedProcessRunner } from './sandboxedProcessRunner.js';
import { withoutSecrets } from './sandboxEnv.js';
import type { RunnerPolicy, SandboxSupport } from './sandboxTypes.js';

/** A runner with a lifetime: dispose it when its worktree is done. */
export interface ContainedRunner extends ProcessRunner {
  /** False for the unsandboxed fallback. */
  readonly sandboxed: boolean;
  dispose(): Promise<void>;
}

/** What a policy means on a machine: run sandboxed, run unsandboxed, ask the user first, or refuse. */
export type RunnerDecision =
  | { kind: 'sandbox' }
  | { kind: 'unsandboxed'; warning: string }
  | { kind: 'ask'; reason: string }
  | { kind: 'refuse'; reason: string };

/** How a user gives consent to run unsandboxed, named in every refusal: the CLI flag and the VS Code setting. */
export const CONSENT_HOW = `Allow it with --${cliFlag('allowUnsandboxed')} on the command line, or in VS Code with the setting `
  + `entropo.${editorKey('allowUnsandboxed')} (or by answering "Run Unsandboxed in This Workspace" when asked).`;

/** Marks the AgentError thrown when running would need the user's consent to go unsandboxed. */
const CONSENT = Symbol('unsandboxed-consent');
const warned = new Set<string>();

/**
 * The decision for `policy` given what `detectSandbox` found; a pure function, so a caller can find out
 * before building a runner whether it must ask the user (`ask`) and then retry with `allowUnsandboxed`.
 */
export function decideRunner(policy: Pick<RunnerPolicy, 'mode' | 'allowUnsandboxed'>, support: SandboxSupport): RunnerDecision {
  const missing = support.reason ?? 'the command sandbox is not available on this machine';
  if (policy.mode === 'off') {
    return policy.allowUnsandboxed
      ? { kind: 'unsandboxed', warning: 'The sandbox is turned off: the agent\'s commands run with your permissions, your files and your network.' }
      : { kind: 'ask', reason: 'The sandbox is turned off, so the agent\'s commands would run with your permissions, files and network.' };
  }
  if (support.available) return { kind: 'sandbox' };
  if (policy.mode === 'required') {
    return { kind: 'refuse', reason: `The sandbox is required but unavailable: ${missing} Or set the sandbox mode to "preferred" `
      + `(--${cliFlag('sandboxMode')} preferred, or the setting entropo.${editorKey('sandboxMode')}) and allow running unsandboxed `
      + `(--${cliFlag('allowUnsandboxed')}, or entropo.${editorKey('allowUnsandboxed')}).` };
  }
  return policy.allowUnsandboxed
    ? { kind: 'unsandboxed', warning: `Commands run without a sandbox: ${missing}` }
    : { kind: 'ask', reason: `No sandbox is available (${missing}), so the agent's commands would run with your permissions, files and network.` };
}

/**
 * Builds the runner for one worktree under `policy`: a SandboxedProcessRunner when possible; the plain
 * runner only with `allowUnsandboxed` (warning once per process through `onWarning`); otherwise throws an
 * AgentError(Config) whose message says what to do (`needsUnsandboxedConsent` tells the two cases apart).
 */
export async function createProcessRunner(policy: RunnerPolicy, support?: SandboxSupport): Promise<ContainedRunner> {
  const found = support ?? await detectSandbox();
  const decision = decideRunner(policy, found);
  switch (decision.kind) {
    case 'sandbox': {
      if (found.limits.processes === 'none') {
        warnOnce(policy, 'The sandbox cannot cap the number of processes here (running as root without a pids cgroup): '
          + 'a fork bomb is stopped only by the command timeout.');
      }
      return new SandboxedProcessRunner(policy.sandbox, found);
    }
    case 'unsandboxed':
      warnOnce(policy, decision.warning);
      return new UnsandboxedRunner(policy.sandbox.secrets ?? [], policy.sandbox.namespace);
    case 'ask':
      throw new AgentError(ErrorReason.Config, `${decision.reason} ${CONSENT_HOW}`, { cause: CONSENT });
    case 'refuse':
      throw new AgentError(ErrorReason.Config, decision.reason);
  }
}

/** True for the error `createProcessRunner` throws when only the user's consent is missing. */
export function needsUnsandboxedConsent(error: unknown): boolean {
  return error instanceof AgentError && error.cause === CONSENT;
}

function warnOnce(policy: RunnerPolicy, message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  policy.onWarning?.(message);
}

/** The plain runner, still without the configured secrets in its environment (and inside an overlay's namespace, given one). */
class UnsandboxedRunner implements ContainedRunner {
  readonly sandboxed = false;
  private readonly inner: ProcessRunner;

  constructor(private readonly secrets: readonly string[], namespace?: MountNamespace) {
    this.inner = inNamespace(new NodeProcessRunner(), namespace);
  }

  shell(command: string, options: RunOptions): Promise<ProcessResult> {
    return this.exec('bash', ['-c', command], options);
  }

  exec(file: string, args: string[], options: RunOptions): Promise<ProcessResult> {
    return this.inner.exec(file, args, { ...options, env: withoutSecrets(options.env ?? process.env, this.secrets) });
  }

  async dispose(): Promise<void> {
    // Nothing to release.
  }
}
