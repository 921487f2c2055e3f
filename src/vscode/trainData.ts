/** Where Fine-Tune keeps the training data it exports from a preference store (no `vscode` here: tests compute it too). */
import { createHash } from 'node:crypto';
import { readdirSync, realpathSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The folder under the extension's global storage that holds the exports Fine-Tune made from the store at
 * `storeDir`, one per store, so that Delete Recorded Data for that store deletes them as well.
 */
export function trainDataDir(globalStorageDir: string, storeDir: string): string {
  // The store's real path: a link to it, or the setting spelled another way, is the same store.
  const real = (() => {
    try {
      return realpathSync(storeDir);
    } catch {
      return path.resolve(storeDir);
    }
  })();
  const key = createHash('sha256').update(real).digest('hex').slice(0, 16);
  return path.join(globalStorageDir, 'train-data', key);
}

/** Exports made before they were kept per store, directly in `train-data/`: they cannot be told apart by store. */
export function unattributedExports(globalStorageDir: string): string[] {
  try {
    return readdirSync(path.join(globalStorageDir, 'train-data')).filter((name) => name.endsWith('.jsonl'));
  } catch {
    return [];
  }
}
