import type { ContainmentPolicy } from '../core/sampling/runBatch.js';
import type { NetworkMode, SandboxMode } from '../core/sandbox/sandboxTypes.js';
import { choice } from './verifyFlags.js';

/** How commands the product runs on its own are contained; shared by `run` (rollouts, tests) and `rank` (tests). */
export const CONTAINMENT_FLAGS = {
  sandbox: { type: 'string', value: 'MODE', help: 'Contain the commands run (the agent\'s and the tests): required, preferred (default: sandbox when available), off.' },
  'allow-unsandboxed': { type: 'boolean', help: 'Consent to run commands without a sandbox when none is available (or with --sandbox off).' },
  network: { type: 'string', value: 'MODE', help: 'Network of those commands: off (default), allowlist, on.' },
  'allow-host': { type: 'string', multiple: true, value: 'HOST', help: 'Host reachable with --network allowlist (host, host:port or *.domain); repeatable.' },
} as const;

/** The flag that gives consent to run unsandboxed, named in the message that asks for it. */
export const CONSENT_FLAG = '--allow-unsandboxed';

/** The containment policy the flags ask for; warnings go to stderr. */
export function containmentFromFlags(flags: Record<string, unknown>, hidden: { paths?: string[]; secrets?: string[] } = {}): ContainmentPolicy {
  return {
    mode: (choice(flags.sandbox, 'sandbox', ['required', 'preferred', 'off']) ?? 'preferred') as SandboxMode,
    allowUnsandboxed: flags['allow-unsandboxed'] === true,
    onWarning: (message) => process.stderr.write(`entropo: warning: ${message}\n`),
    sandbox: {
      network: (choice(flags.network, 'network', ['off', 'allowlist', 'on']) ?? 'off') as NetworkMode,
      allowedHosts: (flags['allow-host'] as string[] | undefined) ?? [],
      hiddenPaths: hidden.paths ?? [], secrets: hidden.secrets ?? [],
    },
  };
}
