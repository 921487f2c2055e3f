/** Finding an executable program in a list of folders, as a shell finds one on PATH. */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The folders of a PATH value, in order, empty entries dropped. */
export function pathDirs(path = process.env.PATH ?? ''): string[] {
  return path.split(delimiter).filter(Boolean);
}

/** The first executable file called `name` in `dirs` (PATH's folders by default), or undefined. */
export async function findProgram(name: string, dirs: readonly string[] = pathDirs()): Promise<string | undefined> {
  for (const dir of dirs) {
    if (await isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}
