/**
 * Reads a file that code from elsewhere may have put in place (an agent's tree, a test run's report): a
 * FIFO, a device or a huge file there must not hang or exhaust this process.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { AgentError, ErrorReason } from '../errors.js';

/** Options of `readRegularFile`. */
export interface ReadRegularOptions {
  /** Larger files are refused. */
  maxBytes: number;
  /** Whether a symbolic link at `path` itself is followed; the default refuses it (ELOOP). */
  followLinks?: boolean;
}

/**
 * The bytes of `path` when it is a regular file of at most `maxBytes`. It is opened without blocking (a FIFO
 * with no writer opens at once, instead of waiting in a thread of the pool that every file read shares) and
 * checked on the opened descriptor, so it cannot be swapped between the check and the read. Throws an
 * AgentError (InvalidArgument) that says what the path is instead; errors of the open itself pass through.
 */
export async function readRegularFile(path: string, options: ReadRegularOptions): Promise<Buffer> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.followLinks ? 0 : constants.O_NOFOLLOW);
  const handle = await open(path, flags);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new AgentError(ErrorReason.InvalidArgument, `is ${kindOf(info)}, not a regular file`);
    if (info.size > options.maxBytes) {
      throw new AgentError(ErrorReason.InvalidArgument, `is ${(info.size / 1024 / 1024).toFixed(1)} MB, more than the ${(options.maxBytes / 1024 / 1024).toFixed(1)} MB read`);
    }
    // Read no more than was allowed, whatever the file grows to meanwhile.
    const buffer = Buffer.alloc(info.size);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.subarray(0, read);
  } finally {
    await handle.close();
  }
}

function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  return info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : 'not a file';
}
