/** Resolves symbolic links the way a process inside another mount namespace would, reading through /proc. */
import { lstat, readlink } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';

// What Linux allows along one path before it answers ELOOP.
const MAX_LINKS = 40;

/**
 * The real path of `inside` (an absolute path in the namespace whose root this process reaches as
 * `hostRoot`), resolving links component by component: an absolute link target starts again at the
 * namespace's root, not this process's (which is why realpath(3) through /proc/<pid>/root is wrong). The
 * part from the first missing component on is kept as given, so a file about to be created is checked too.
 */
export async function realpathInside(hostRoot: string, inside: string): Promise<string> {
  let done = '/';
  let rest = inside.split('/').filter(Boolean);
  let links = 0;
  while (rest.length > 0) {
    const name = rest.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      done = path.posix.dirname(done);
      continue;
    }
    const next = path.posix.join(done, name);
    const info = await lstat(hostRoot + next).catch(() => null);
    if (info === null) return path.posix.join(next, ...rest);
    if (!info.isSymbolicLink()) {
      done = next;
      continue;
    }
    if (++links > MAX_LINKS) throw new AgentError(ErrorReason.InvalidArgument, `Too many levels of symbolic links in ${inside}.`);
    const target = await readlink(hostRoot + next);
    rest = [...target.split('/').filter(Boolean), ...rest];
    if (target.startsWith('/')) done = '/';
  }
  return done;
}
