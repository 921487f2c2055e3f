/** The git folders a worktree's git commands read, which may lie far outside the worktree. */
import { readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathInside } from './namespacedRunner.js';

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

/** A file shown in the sandbox in place of another: `path` as the sandbox sees it, `copy` on the host. */
export interface ReplacedFile {
  path: string;
  copy: string;
}

// Keys whose value is a credential, whatever the section: http.<url>.extraHeader (an Authorization header),
// and the password or token that some tools keep in the repository's config.
const CREDENTIAL_KEY = /^\s*(extraheader|password|token|accesstoken)\s*=/i;
// The user information of a URL: `https://user:token@host/...`, `https://token@host/...`.
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** `text`, a git config file, without its credentials: credential keys dropped, URLs without their user part. */
export function withoutCredentials(text: string): string {
  return text.split('\n').filter((line) => !CREDENTIAL_KEY.test(line)).map((line) => line.replace(URL_USERINFO, '$1')).join('\n');
}

/**
 * For each of `checkouts` (as the sandbox sees them; through `hostRoot` when they lie in an overlay's
 * namespace) whose shared git folder's config holds credentials (a token in a remote's URL, an extraHeader),
 * a copy without them, written into `dir`, to be shown in its place: the sandbox binds that folder read-only
 * for the checkout's git, which must not hand the token to code from elsewhere.
 */
export async function gitConfigsWithoutCredentials(checkouts: readonly string[], dir: string, hostRoot?: string): Promise<ReplacedFile[]> {
  const replaced: ReplacedFile[] = [];
  for (const checkout of checkouts) {
    const dirs = gitDirs(hostRoot ? hostRoot + checkout : checkout);
    if (!dirs) continue;
    const hostConfig = join(dirs.commonDir, 'config');
    const path = pathInside(hostConfig, hostRoot);
    if (replaced.some((r) => r.path === path)) continue;
    const text = await readFile(hostConfig, 'utf8').catch(() => undefined);
    if (text === undefined || withoutCredentials(text) === text) continue;
    const copy = join(dir, `gitconfig-${replaced.length}`);
    await writeFile(copy, withoutCredentials(text), { mode: 0o444 });
    replaced.push({ path, copy });
  }
  return replaced;
}
