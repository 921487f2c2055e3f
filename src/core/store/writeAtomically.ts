import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';

/**
 * Writes `file` through a temporary file renamed into place, so a failed export never leaves half a file.
 * When `body` resolves `false` (nothing worth writing), `file` is left as it was. Resolves whether it was written.
 */
export async function writeAtomically(file: string, body: (write: (text: string) => Promise<void>) => Promise<boolean | void>): Promise<boolean> {
  const temp = `${file}.${process.pid}.tmp`;
  let stream: WriteStream | undefined;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    // Opened first, so that a folder that cannot be written fails here, not as a stream's unhandled error.
    stream = (await open(temp, 'w')).createWriteStream();
    let failed: Error | undefined;
    stream.on('error', (error) => { failed = error; });
    const write = async (text: string) => {
      if (failed) throw failed;
      if (!stream!.write(text)) await once(stream!, 'drain');
    };
    const keep = (await body(write)) !== false;
    stream.end();
    await once(stream, 'finish');
    if (failed) throw failed;
    if (!keep) {
      await rm(temp, { force: true });
      return false;
    }
    await rename(temp, file);
    return true;
  } catch (error) {
    stream?.destroy();
    await rm(temp, { force: true });
    throw new AgentError(ErrorReason.Io, `Cannot write the export ${file}: ${(error as Error).message}`, { cause: error });
  }
}
