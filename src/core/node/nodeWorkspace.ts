import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import type { Workspace } from '../types.js';
import { realpathInside } from './realpathInside.js';

/** Options of a NodeWorkspace. */
export interface NodeWorkspaceOptions {
  /**
   * For a workspace that lives in another mount namespace (a copy-on-write overlay): `/proc/<pid>/root` of a
   * process in it. The constructor's `root` is then the path commands in the namespace see, and this
   * process reads and writes the files at `hostRoot + root`.
   */
  hostRoot?: string;
}

/** A workspace on the local disk; every path is resolved, symlinks included, and confined to the root. */
export class NodeWorkspace implements Workspace {
  readonly root: string;
  /** The root as the agent's commands see it; equals `root` unless the workspace lives in another namespace. */
  readonly inside: string;
  private readonly hostRoot: string;

  constructor(root: string, options: NodeWorkspaceOptions = {}) {
    this.hostRoot = options.hostRoot ?? '';
    // Inside another namespace the folder is already real there; realpath(3) here would leave the namespace.
    this.inside = this.hostRoot ? path.resolve(root) : realpathSync(path.resolve(root));
    this.root = this.hostRoot + this.inside;
  }

  async resolve(given: string): Promise<string> {
    if (typeof given !== 'string' || given.trim() === '') {
      throw new AgentError(ErrorReason.InvalidArgument, 'A path is required.');
    }
    if (given.includes('\0')) throw new AgentError(ErrorReason.InvalidArgument, 'The path contains a NUL byte.');
    // Models trained on R2E-Gym address the repository as /testbed; map it onto the root. Paths this process
    // handed out (under hostRoot) are taken back as the commands' paths.
    const unhosted = this.hostRoot && given.startsWith(this.root) ? given.slice(this.hostRoot.length) : given;
    const mapped = unhosted.replace(/^\/testbed(?=\/|$)/, this.inside);
    const absolute = path.resolve(this.inside, mapped);
    this.assertInside(absolute, given);
    // Link by link, so that a dangling link (whose target realpath(3) cannot find) is followed to where it points.
    const real = await realpathInside(this.hostRoot, absolute);
    this.assertInside(real, given);
    return this.hostRoot + absolute;
  }

  relative(absolutePath: string): string {
    return path.relative(this.root, absolutePath).split(path.sep).join('/') || '.';
  }

  private assertInside(absolute: string, given: string): void {
    const rel = path.relative(this.inside, absolute);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return;
    throw new AgentError(
      ErrorReason.PathOutsideWorkspace,
      `The path ${given} is outside the repository (${this.inside}). Use a path inside the repository.`,
    );
  }
}
