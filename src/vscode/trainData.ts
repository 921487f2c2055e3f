/** Where Fine-Tune keeps the training data it exports from a preference store (no `vscode` here: tests compute it too). */
import { createHash } from 'node:crypto';
import * as path from 'node:path';

/**
 * The folder under the extension's global storage that holds the exports Fine-Tune made from the store at
 * `storeDir`, one per store, so that Delete Recorded Data for that store deletes them as well.
 */
export function trainDataDir(globalStorageDir: string, storeDir: string): string {
  const key = createHash('sha256').update(path.resolve(storeDir)).digest('hex').slice(0, 16);
  return path.join(globalStorageDir, 'train-data', key);
}
