/** The git folders a worktree's git commands read, which may lie far outside the worktree. */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Where the git data of one checkout lives. */
export interface GitDirs {
  /** `<checkout>/.git`: a folder in a plain repository, a file pointing at `gitDir` in a linked worktree. */
  dotGit: string;
  /** The checkout's own git folder (index, HEAD): `<common>/worktrees/<name>` for a linked worktree. */
  gitDir: string;
  /** The shared folder with objects, refs and config. */
  commonDir: string;
  /** Object stores borrowed through `objects/info/alternates`. */
  alternates: string[];
}

/**
 * Reads a checkout's `.git` (file or folder); null when `checkout` is not the top of a git checkout.
 * Synchronous: three tiny reads, cheaper than a trip through the thread pool on every command.
 */
export function gitDirs(checkout: string): GitDirs | null {
  const dotGit = join(checkout, '.git');
  let info;
  try {
    info = statSync(dotGit);
  } catch {
    return null;
  }
  let gitDir = dotGit;
  if (info.isFile()) {
    const match = /^gitdir:\s*(.+)$/m.exec(readText(dotGit) ?? '');
    if (!match) return null;
    gitDir = resolve(checkout, match[1].trim());
  }
  const commonText = readText(join(gitDir, 'commondir'));
  const commonDir = commonText === null ? gitDir : resolve(gitDir, commonText.trim());
  const alternatesText = readText(join(commonDir, 'objects', 'info', 'alternates')) ?? '';
  const objects = join(commonDir, 'objects');
  const alternates = alternatesText.split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => (isAbsolute(line) ? line : resolve(objects, line)));
  return { dotGit, gitDir, commonDir, alternates: alternates.filter((a) => dirname(a) !== a) };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
