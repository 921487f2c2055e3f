/** A read-only sandbox for the programs that host-side git starts in a workspace (its filter drivers). */
import { homedir } from 'node:os';
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
 * capabilities, and the agent's scrubbed environment without the configured secrets. `hostRoot`: the
 * workspace lies in an overlay's mount namespace, where the command starts, and is looked at through this.
 */
export function helperSandboxArgv(sandbox: HelperSandbox, workspace: string, hostRoot?: string): string[] {
  const home = sandbox.home ?? homedir();
  const mounts = bwrapArgs({
    writable: [workspace], readOnly: [], hidden: [...defaultHiddenPaths(home), ...(sandbox.hiddenPaths ?? [])],
    emptyFile: '/dev/null', network: 'off', expose: [], home, cwd: workspace,
    view: hostRoot ? { hostRoot, roots: [workspace] } : undefined,
  });
  const env = Object.entries(sandboxEnv(process.env, sandbox.secrets)).flatMap(([name, value]) => ['--setenv', name, value]);
  return [sandbox.bwrapPath, ...mounts, '--remount-ro', workspace, '--clearenv', ...env];
}
