/** Where a workspace's preference store lives when the caller does not say. */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

/**
 * `~/.local/state/entropo/store/<first 16 hex of sha256 of the repository's top level>`: one store per
 * repository whichever of its folders `dir` is, outside the repository so it is never committed, and named
 * by a hash so the folder name reveals nothing about the path.
 */
export function defaultStoreDir(dir: string, home = homedir()): string {
  const hash = createHash('sha256').update(topLevel(dir)).digest('hex').slice(0, 16);
  return path.join(home, '.local', 'state', 'entropo', 'store', hash);
}

// The nearest folder holding `.git` (a folder, or a file in a linked worktree or submodule), symlinks
// resolved; `dir` itself outside any repository. Found without running git, so this stays synchronous.
function topLevel(dir: string): string {
  const start = path.resolve(dir);
  for (let at = start; ; at = path.dirname(at)) {
    if (existsSync(path.join(at, '.git'))) return real(at);
    if (path.dirname(at) === at) return real(start);
  }
}

function real(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
