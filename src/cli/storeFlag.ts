/** The preference store that `--store DIR` or `--repo DIR` (default: the current directory) names. */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { defaultStoreDir } from '../core/store/storeLocation.js';
import { UsageError } from './usageError.js';

/** The store's folder; a `--repo` that is no folder is a usage error (its default store would be a made-up one). */
export function storeDirFromFlags(flags: { store?: unknown; repo?: unknown }): string {
  if (typeof flags.store === 'string') {
    const dir = path.resolve(flags.store);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--store ${dir} is a file, not a preference store.`);
    return dir;
  }
  const repo = path.resolve(String(flags.repo ?? '.'));
  if (!existsSync(repo) || !statSync(repo).isDirectory()) throw new UsageError(`--repo ${repo} is not a directory.`);
  return defaultStoreDir(repo);
}

/** What to say when there is no store in `dir` at all, or undefined when there is (an empty folder is an empty store). */
export function missingStore(dir: string): string | undefined {
  return existsSync(dir) ? undefined : `no preference store at ${dir}: nothing is recorded there (runs on this repository record into it; check --store or --repo)`;
}
