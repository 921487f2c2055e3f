/** Chooses how a batch's workspaces are isolated: overlays where this machine allows them, worktrees elsewhere. */
import { AgentError, ErrorReason } from '../errors.js';
import type { IsolationKind } from './batchMarker.js';
import { probeOverlays } from './overlayProbe.js';

/** What the caller asks for: `auto` probes; `overlay` and `worktree` force one (for a machine the probe misjudges). */
export type IsolationMode = 'auto' | IsolationKind;

/** The isolation a batch uses, and why, in one line for the log and result.json. */
export interface Isolation {
  kind: IsolationKind;
  reason: string;
}

/** Options of `chooseIsolation`. */
export interface ChooseIsolationOptions {
  /** The folder workspaces go in; its filesystem must carry an overlay's upper layer. */
  baseDir?: string;
  /** bubblewrap's path when commands will be sandboxed: overlays are chosen only if it also works inside their namespace. */
  bwrapPath?: string;
}

/**
 * Resolves `mode`: `auto` takes overlays when the probe makes one here (and, with bubblewrap, sandboxes a
 * command inside it), else worktrees with the probe's reason; `overlay` throws AgentError(Config) with that
 * reason where overlays cannot work; `worktree` always works.
 */
export async function chooseIsolation(mode: IsolationMode = 'auto', options: ChooseIsolationOptions = {}): Promise<Isolation> {
  if (mode === 'worktree') return { kind: 'worktree', reason: 'worktrees were asked for' };
  if (mode !== 'auto' && mode !== 'overlay') {
    throw new AgentError(ErrorReason.Config, `isolation must be "auto", "overlay" or "worktree", got ${String(mode)}.`);
  }
  const support = await probeOverlays(options);
  if (support.available) {
    return { kind: 'overlay', reason: mode === 'overlay' ? 'overlays were asked for' : 'copy-on-write overlays over one shared checkout work here' };
  }
  if (mode === 'overlay') throw new AgentError(ErrorReason.Config, `Overlay workspaces were asked for but do not work here: ${support.reason}.`);
  return { kind: 'worktree', reason: `one git worktree per rollout, since overlays do not work here: ${support.reason}` };
}
