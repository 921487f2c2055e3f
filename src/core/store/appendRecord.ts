/** Appends one line to a segment file so that it lands whole or not at all, and never glued to a torn tail. */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';

/** Options of `appendRecord`. */
export interface AppendOptions {
  /** fdatasync the file after the write (and the folder when the file is new); default true. */
  fsync?: boolean;
}

const NEWLINE = 0x0a;

/**
 * Writes `line` (which must end with a newline) to the end of `file` with one `write` on a descriptor opened
 * with O_APPEND, so the kernel places it at the current end even if another process appended meanwhile. If
 * the file does not end with a newline (a writer crashed mid-record), a newline is written first, in the
 * same `write`, so the torn fragment stays a line of its own that readers skip. Call it under the store lock:
 * O_APPEND alone does not promise that a large write is not interleaved with another process's write.
 */
export async function appendRecord(file: string, line: string, options: AppendOptions = {}): Promise<void> {
  if (!line.endsWith('\n')) throw new AgentError(ErrorReason.InvalidArgument, 'A record line must end with a newline.');
  let handle: FileHandle;
  try {
    // a+ = O_APPEND | O_CREAT | O_RDWR: append-only writes, and reads for checking the last byte.
    handle = await open(file, 'a+');
  } catch (error) {
    throw new AgentError(ErrorReason.Io, `Cannot open the preference store file ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const { size } = await handle.stat();
    const closeTornTail = size > 0 && (await lastByte(handle, size)) !== NEWLINE;
    const bytes = Buffer.from(closeTornTail ? `\n${line}` : line, 'utf8');
    await writeAll(handle, bytes);
    if (options.fsync ?? true) {
      await handle.datasync();
      if (size === 0) await syncFolder(dirname(file));
    }
  } catch (error) {
    if (error instanceof AgentError) throw error;
    throw new AgentError(ErrorReason.Io, `Cannot write to the preference store file ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

async function lastByte(handle: FileHandle, size: number): Promise<number> {
  const buffer = Buffer.alloc(1);
  await handle.read(buffer, 0, 1, size - 1);
  return buffer[0];
}

// A regular-file write returns short only on a full disk or a signal; the rest still goes out under the lock,
// and if the process dies in between, readers see a torn line and skip it.
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new Error('the write made no progress');
    offset += bytesWritten;
  }
}

// A new file's name lives in its folder; without this a power loss could lose a whole fsynced file.
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
