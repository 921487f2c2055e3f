import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Why a test that needs `command` cannot run here, or undefined when `command` is on PATH. */
export function missingTool(command: string, what: string): string | undefined {
  const found = (process.env.PATH ?? '').split(delimiter).filter(Boolean).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return found ? undefined : `needs ${what}: no \`${command}\` on PATH`;
}
