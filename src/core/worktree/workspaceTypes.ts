/** The workspaces one batch of rollouts (or one verification) works in, whichever way they are isolated. */
import type { MountNamespace } from '../types.js';
import type { IsolationKind } from './batchMarker.js';
import type { Snapshot } from './snapshot.js';

/** One isolated copy of the snapshot that a rollout or a test run may change. */
export interface IsolatedWorkspace {
  /** `r0`, `r1`, ... in batch order. */
  id: string;
  /** Where this process reads and writes it: `/proc/<pid>/root<inside>` for an overlay, the worktree itself otherwise. */
  path: string;
  /** Where the commands run in it see it: its folder inside the overlay namespace; `path` for a worktree. */
  inside: string;
  /** The namespace that holds an overlay; commands, git and the sandbox must run in it. */
  namespace?: MountNamespace;
  /** An overlay's layers: the shared checkout below, and this workspace's own changes above it. */
  layers?: { lower: string; upper: string };
}

/** A batch of workspaces made from one snapshot. */
export interface WorkspaceBatch {
  id: string;
  /** `<baseDir>/<repo-hash>/<id>`; owned by us, outside the user's tree. */
  dir: string;
  snapshot: Snapshot;
  kind: IsolationKind;
  workspaces: IsolatedWorkspace[];
}
