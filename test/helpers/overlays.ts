/** What the overlay tests need to know about this machine, and checks that an overlay batch left nothing running. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { probeOverlays } from '../../src/core/worktree/overlayProbe.js';

/** Null when overlay workspaces work here, else the reason to give when skipping a test that needs them. */
export async function overlaysMissing(baseDir?: string): Promise<string | null> {
  const support = await probeOverlays({ baseDir });
  return support.available ? null : `needs unprivileged user namespaces and overlayfs: ${support.reason ?? 'unavailable here'}`;
}

/** The identity of the namespace that holds the overlay at `path` (`/proc/<pid>/root/...`), read while it runs. */
export function namespaceOf(path: string): { pid: number; mnt: string } | null {
  const match = /^\/proc\/(\d+)\/root\//.exec(path);
  if (!match) return null;
  return { pid: Number(match[1]), mnt: readlinkSync(`/proc/${match[1]}/ns/mnt`) };
}

/** True while the namespace's first process still runs in it. */
export function namespaceAlive(ns: { pid: number; mnt: string }): boolean {
  try {
    return readlinkSync(`/proc/${ns.pid}/ns/mnt`) === ns.mnt;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `text` (an overlay holder names its batch folder). */
export function processesMentioning(text: string): number[] {
  return running(text).map((p) => p.pid);
}

/** The command lines of those processes, arguments joined by spaces, for a failure message. */
export function commandsMentioning(text: string): string[] {
  return running(text).map((p) => p.command);
}

function running(text: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)) {
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (command.includes(text)) found.push({ pid: Number(name), command: command.replaceAll('\0', ' ').trim() });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Waits up to `ms` for `test` to hold, polling. */
export async function eventually(test: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (test()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return test();
}
