import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, lstatSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Hashes every file of the user's side of a repository: the working tree, and in .git the index, HEAD,
 * config, branches, tags and the stash. Objects and our own refs are left out: the snapshot adds those.
 */
export function hashUserState(root: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (rel === '.git/objects' || rel === '.git/refs/entropo' || rel === '.git/worktrees' || rel === '.git/logs') continue;
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) hashes.set(rel, `link:${readlinkSync(full)}`);
      else if (stat.isDirectory()) walk(full);
      else hashes.set(rel, `${stat.mode.toString(8)}:${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(root);
  return hashes;
}
