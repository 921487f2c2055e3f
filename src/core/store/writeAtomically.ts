import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';

/** Writes `file` through a temporary file renamed into place, so a failed export never leaves half a file. */
export async function writeAtomically(file: string, body: (write: (text: string) => Promise<void>) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const stream = createWriteStream(temp);
  const write = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  try {
    await body(write);
    stream.end();
    await once(stream, 'finish');
    await rename(temp, file);
  } catch (error) {
    stream.destroy();
    await rm(temp, { force: true });
    throw new AgentError(ErrorReason.Io, `Cannot write the export ${file}: ${(error as Error).message}`, { cause: error });
  }
}
