/** Finds a repository's identity for the store: its top level, `origin` URL and HEAD. */
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { gitResult } from '../worktree/git.js';
import type { RepoIdentity } from './storeTypes.js';

/** Options of `repoIdentity`. */
export interface RepoIdentityOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** The repository containing `dir`: its symlink-resolved top level, and the identity recorded with each task. */
export async function repoIdentity(dir: string, options: RepoIdentityOptions = {}): Promise<RepoIdentity & { root: string }> {
  const git = (args: string[], cwd: string) => gitResult(args, { cwd, timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal });
  const top = await git(['rev-parse', '--show-toplevel'], dir);
  if (top.code !== 0) throw new AgentError(ErrorReason.NotAGitRepository, `${dir} is not inside a git repository.`);
  const root = await realpath(top.stdout.trim());
  const [remote, head] = await Promise.all([git(['remote', 'get-url', 'origin'], root), git(['rev-parse', '--verify', '-q', 'HEAD'], root)]);
  return {
    root,
    name: path.basename(root),
    remoteUrl: remote.code === 0 && remote.stdout.trim() !== '' ? remote.stdout.trim() : null,
    head: head.code === 0 ? head.stdout.trim() : null,
  };
}
