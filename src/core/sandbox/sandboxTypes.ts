/** Options and reports of the command sandbox; see sandboxedProcessRunner.ts for what each option enforces. */
import type { MountNamespace } from '../types.js';

/**
 * Network of a sandboxed command. `off`: a private network namespace with only its own loopback (the
 * default); `allowlist`: the same namespace, plus an HTTP(S) proxy that only reaches `allowedHosts`;
 * `on`: the host's network, unrestricted.
 */
export type NetworkMode = 'off' | 'allowlist' | 'on';

/** Per-command resource limits; each has a default (see `DEFAULT_LIMITS`). */
export interface SandboxLimits {
  /** Memory of the whole command (cgroup), and of each of its processes (RLIMIT_DATA). */
  memoryBytes?: number;
  /** Processes and threads the command may have at once (pids cgroup, else RLIMIT_NPROC). */
  maxProcesses?: number;
}

/** What one sandbox contains and exposes; fixed when the runner is built (one runner per worktree). */
export interface SandboxOptions {
  /** Absolute paths the command may write: the rollout's worktree. Everything else is read-only. */
  writable: string[];
  /** Paths inside `writable` that stay read-only (the project's settings, a store kept in the repository). */
  readOnly?: string[];
  /** Paths hidden from the command, in addition to the default secrets of `home` (store, state, settings). */
  hiddenPaths?: string[];
  /**
   * Paths the command reads even where the sandbox's private /tmp covers them: the user's installed
   * dependencies linked into a tree, when the user's checkout lies in a temp folder.
   */
  expose?: string[];
  /** Home folder whose secrets are hidden; defaults to the current user's. */
  home?: string;
  network?: NetworkMode;
  /** Hosts reachable in `allowlist` mode: `host`, `host:port`, or `*.domain` (any subdomain). */
  allowedHosts?: string[];
  limits?: SandboxLimits;
  /** Secret values (the configured API key): any variable whose value contains one is removed. */
  secrets?: string[];
  /**
   * The mount namespace that holds the writable folders (copy-on-write overlay workspaces): every sandbox
   * starts inside it, `writable` are paths as seen there, and a command's cwd under `hostRoot` is taken as
   * the path inside.
   */
  namespace?: MountNamespace;
}

/** How a limit is enforced on this machine; `none` means it is not enforced at all. */
export type LimitEnforcement = 'cgroup' | 'rlimit' | 'none';

import type { CgroupRoots } from './cgroups.js';

/** Whether commands can be sandboxed here, and why not. */
export interface SandboxSupport {
  available: boolean;
  kind: 'bubblewrap';
  /** Why the sandbox is unavailable, written for the user. */
  reason?: string;
  /** Absolute path of the bwrap binary found. */
  bwrapPath?: string;
  /** How memory and process limits are enforced (only meaningful when available). */
  limits: { memory: LimitEnforcement; processes: LimitEnforcement };
  /** Where per-command cgroups are created, when they can be. */
  cgroups?: CgroupRoots;
}

/** Whether to sandbox: `required` refuses to run without it, `preferred` falls back, `off` never sandboxes. */
export type SandboxMode = 'required' | 'preferred' | 'off';

/** How commands of one workspace are run. */
export interface RunnerPolicy {
  mode: SandboxMode;
  sandbox: SandboxOptions;
  /**
   * The user's explicit consent to run commands without containment. No command ever runs unsandboxed
   * without it: in `preferred` mode on a machine without bubblewrap, and in `off` mode.
   */
  allowUnsandboxed?: boolean;
  /** Told once per process when commands run unsandboxed, or with weaker limits than asked. */
  onWarning?: (message: string) => void;
}

/** Limits used when the caller gives none: generous for test suites, small enough to stop a runaway. */
export const DEFAULT_LIMITS: Required<SandboxLimits> = {
  memoryBytes: 4 * 1024 ** 3,
  maxProcesses: 1024,
};

/** A runner policy without the writable folder and namespace, which are each workspace's own. */
export type ContainmentPolicy = Omit<RunnerPolicy, 'sandbox'> & { sandbox: Omit<SandboxOptions, 'writable' | 'namespace'> };
