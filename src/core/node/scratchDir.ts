/**
 * Temporary folders of this process (a sandbox's private /tmp, a scratch index) that must not outlive it, even
 * when it quits at once: a second Ctrl-C exits without waiting for the work to clean up after itself, and
 * every folder still in use is removed as the process exits. Only SIGKILL leaves one behind.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let hooked = false;

/** A new folder in the system temp folder, named `prefix` and a random suffix. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  live.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const left of live) rmSync(left, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Removes a folder of `scratchDir`; removing it again is no error. */
export async function removeScratchDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.delete(dir);
}
