/** A read-only sandbox for the programs that host-side git starts in a workspace (its filter drivers). */
import { homedir } from 'node:os';
import type { ReplacedFile } from './gitDirs.js';
import { bwrapArgs } from './mountPlan.js';
import { sandboxEnv } from './sandboxEnv.js';
import type { SandboxOptions } from './sandboxTypes.js';
import { defaultHiddenPaths } from './secretPaths.js';

/** What the helper sandboxes of one batch share: bubblewrap, and what the agent's own sandboxes hide. */
export interface HelperSandbox extends Pick<SandboxOptions, 'hiddenPaths' | 'home' | 'secrets'> {
  bwrapPath: string;
}

/**
 * The argv that a command is appended to (after `--`) to run it in `workspace` contained like the agent's own
 * commands, but writing nothing: the agent's mounts with the workspace read-only too, an empty private /tmp,
 * the user's secrets and the caller's hidden paths masked, no network, its own pid and IPC namespaces without
 * capabilities. It keeps the environment it is started with: start it with `helperSandboxEnv` only.
 * `replaced`: files shown in place of others (the workspace's git config without its credentials).
 * `hostRoot`: the workspace lies in an overlay's mount namespace, where the command starts, and is looked at
 * through this.
 */
export function helperSandboxArgv(sandbox: HelperSandbox, workspace: string, hostRoot?: string, replaced: ReplacedFile[] = []): string[] {
  const home = sandbox.home ?? homedir();
  const mounts = bwrapArgs({
    writable: [workspace], readOnly: [], hidden: [...defaultHiddenPaths(home), ...(sandbox.hiddenPaths ?? [])],
    emptyFile: '/dev/null', network: 'off', expose: [], home, cwd: workspace, replaced,
    view: hostRoot ? { hostRoot, roots: [workspace] } : undefined,
  });
  return [sandbox.bwrapPath, ...mounts, '--remount-ro', workspace];
}

/** The environment of a helper sandbox's command: the agent's, scrubbed, without the configured secrets. */
export function helperSandboxEnv(sandbox: HelperSandbox): Record<string, string> {
  return sandboxEnv(process.env, sandbox.secrets);
}
