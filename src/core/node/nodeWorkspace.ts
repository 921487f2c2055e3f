import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import type { Workspace } from '../types.js';

/** A workspace on the local disk; every path is resolved, symlinks included, and confined to the root. */
export class NodeWorkspace implements Workspace {
  readonly root: string;

  constructor(root: string) {
    this.root = realpathSync(path.resolve(root));
  }

  async resolve(given: string): Promise<string> {
    if (typeof given !== 'string' || given.trim() === '') {
      throw new AgentError(ErrorReason.InvalidArgument, 'A path is required.');
    }
    if (given.includes('\0')) throw new AgentError(ErrorReason.InvalidArgument, 'The path contains a NUL byte.');
    // Models trained on R2E-Gym address the repository as /testbed; map it onto the root.
    const mapped = given.replace(/^\/testbed(?=\/|$)/, this.root);
    const absolute = path.resolve(this.root, mapped);
    this.assertInside(absolute, given);
    const real = await realExistingPrefix(absolute);
    this.assertInside(real, given);
    return absolute;
  }

  relative(absolutePath: string): string {
    return path.relative(this.root, absolutePath).split(path.sep).join('/') || '.';
  }

  private assertInside(absolute: string, given: string): void {
    const rel = path.relative(this.root, absolute);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return;
    throw new AgentError(
      ErrorReason.PathOutsideWorkspace,
      `The path ${given} is outside the repository (${this.root}). Use a path inside the repository.`,
    );
  }
}

/** Resolves symlinks of the longest existing prefix of `absolute`, so a file about to be created is checked too. */
async function realExistingPrefix(absolute: string): Promise<string> {
  let current = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(current), ...rest);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}
