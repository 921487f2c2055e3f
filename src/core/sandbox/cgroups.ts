/** Per-command cgroups that cap a command's total memory and process count, where this process may make them. */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isAlive } from '../process/groupProcess.js';

/** Folders under which this process can create cgroups, per controller; absent where it cannot. */
export interface CgroupRoots {
  version: 1 | 2;
  memory?: string;
  pids?: string;
}

/** Limits applied to one command's cgroup. */
export interface CgroupLimits {
  memoryBytes: number;
  maxProcesses: number;
}

const PREFIX = 'entropo-';
let detection: Promise<CgroupRoots | null> | undefined;
let sequence = 0;

/**
 * Finds where this process may create child cgroups with the memory and pids controllers, once per process.
 * cgroup v1 (separate hierarchies) works for root; cgroup v2 only where our own cgroup delegates both
 * controllers to its children, which a cgroup holding processes cannot do, so on most desktops the answer is
 * null and the runner falls back to rlimits.
 */
export function detectCgroups(): Promise<CgroupRoots | null> {
  detection ??= findRoots().catch(() => null);
  return detection;
}

/**
 * One command's cgroup: `join` the sandbox's init to it before the command starts, then `finish` after the
 * command ends. Joining is the expensive part (about 10 ms here: cgroup v1 waits for an RCU grace period to
 * move a task), so it runs while bwrap builds the sandbox; it buys the only process cap that binds root.
 */
export class CommandCgroup {
  private removal?: Promise<void>;

  private constructor(private readonly roots: CgroupRoots, private readonly dirs: string[], private readonly limits: CgroupLimits) {}

  /**
   * Creates the cgroup(s) with the limits set; null when none could be made (the caller keeps rlimits).
   * Synchronous: a handful of cgroupfs writes, cheaper than thread-pool trips on a busy machine.
   */
  static create(roots: CgroupRoots, limits: CgroupLimits): CommandCgroup | null {
    const name = `${PREFIX}${process.pid}-${++sequence}`;
    // Controllers mounted together (or v2's single hierarchy) share one folder.
    const parents = [...new Set([roots.memory, roots.pids])];
    const dirs: string[] = [];
    try {
      for (const parent of parents) {
        if (!parent) continue;
        const dir = join(parent, name);
        mkdirSync(dir);
        dirs.push(dir);
      }
      const group = new CommandCgroup(roots, dirs, limits);
      group.applyLimits();
      return dirs.length > 0 ? group : null;
    } catch {
      for (const dir of dirs) ignore(() => rmdirSync(dir));
      return null;
    }
  }

  /**
   * Moves process `pid` into every hierarchy of this cgroup; its later children are born inside. Off the
   * event loop, since each move blocks for a grace period and other rollouts' commands run meanwhile.
   */
  async join(pid: number): Promise<void> {
    await Promise.all(this.dirs.map((dir) => writeFile(join(dir, 'cgroup.procs'), String(pid))));
  }

  /**
   * Reads which limits the command hit and returns a note for its stderr ('' if none); the cgroup is removed
   * in the background, since the kernel may still be reaping the command's processes.
   */
  finish(): string {
    const notes: string[] = [];
    const oomKills = this.counter(this.file('memory', this.roots.version === 2 ? 'memory.events' : 'memory.oom_control'), 'oom_kill');
    if (oomKills > 0) {
      notes.push(`[sandbox] The command reached its memory limit of ${mib(this.limits.memoryBytes)} MiB; `
        + `the kernel killed ${oomKills} of its processes.`);
    }
    if (this.counter(this.file('pids', 'pids.events'), 'max') > 0) {
      notes.push(`[sandbox] The command reached its limit of ${this.limits.maxProcesses} processes; further forks failed.`);
    }
    this.removal ??= this.remove();
    return notes.length > 0 ? `\n${notes.join('\n')}\n` : '';
  }

  /** Removes the cgroup of a command that never ran (its processes already killed), waiting until it is gone. */
  async discard(): Promise<void> {
    this.removal ??= this.remove();
    await this.removal;
  }

  private applyLimits(): void {
    const { memoryBytes, maxProcesses } = this.limits;
    if (this.roots.version === 2) {
      writeFileSync(this.file('memory', 'memory.max'), String(memoryBytes));
      ignore(() => writeFileSync(this.file('memory', 'memory.swap.max'), '0'));
      writeFileSync(this.file('pids', 'pids.max'), String(maxProcesses));
      return;
    }
    if (this.roots.memory) {
      writeFileSync(this.file('memory', 'memory.limit_in_bytes'), String(memoryBytes));
      // Without swap accounting this file is absent and the memory limit alone applies.
      ignore(() => writeFileSync(this.file('memory', 'memory.memsw.limit_in_bytes'), String(memoryBytes)));
    }
    if (this.roots.pids) writeFileSync(this.file('pids', 'pids.max'), String(maxProcesses));
  }

  private file(controller: 'memory' | 'pids', name: string): string {
    if (this.roots.version === 2) return join(this.dirs[0], name);
    const parent = this.roots[controller];
    const dir = parent ? this.dirs.find((d) => d.startsWith(parent + '/')) : undefined;
    return dir ? join(dir, name) : '';
  }

  private counter(file: string, key: string): number {
    if (!file) return 0;
    let text = '';
    ignore(() => { text = readFileSync(file, 'utf8'); });
    const line = text.split('\n').find((l) => l.startsWith(`${key} `));
    return line ? Number(line.slice(key.length + 1)) || 0 : 0;
  }

  // The command's processes die with its pid namespace, but the kernel may still be reaping them.
  private async remove(): Promise<void> {
    if (this.roots.version === 2) await writeFile(join(this.dirs[0], 'cgroup.kill'), '1').catch(() => undefined);
    for (const dir of this.dirs) {
      for (let attempt = 0; attempt < 40; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }
    }
  }
}

async function findRoots(): Promise<CgroupRoots | null> {
  if (process.platform !== 'linux') return null;
  const own = parseProcCgroup(await readFile('/proc/self/cgroup', 'utf8'));
  const mounts = parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'));
  const v1: CgroupRoots = { version: 1 };
  for (const controller of ['memory', 'pids'] as const) {
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.controllers.includes(controller));
    const path = own.get(controller);
    if (!mount || path === undefined) continue;
    const dir = hostPath(mount, path);
    if (await canCreateChild(dir)) v1[controller] = dir;
  }
  if (v1.memory || v1.pids) return v1;
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const path = own.get('');
  if (!unified || path === undefined) return null;
  const dir = hostPath(unified, path);
  const delegated = (await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
  if (!delegated.includes('memory') || !delegated.includes('pids') || !(await canCreateChild(dir))) return null;
  return { version: 2, memory: dir, pids: dir };
}

interface CgroupMount {
  root: string;
  mountPoint: string;
  fstype: string;
  controllers: string[];
}

/** Controller (or '' for v2) -> cgroup path, from /proc/self/cgroup. */
function parseProcCgroup(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [, controllers, ...rest] = line.split(':');
    const path = rest.join(':');
    for (const controller of controllers.split(',')) map.set(controller.replace(/^name=/, ''), path);
  }
  return map;
}

function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const fstype = fields[dash + 1];
    if (dash < 0 || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    mounts.push({ root: unescape(fields[3]), mountPoint: unescape(fields[4]), fstype, controllers: (fields[dash + 3] ?? '').split(',') });
  }
  return mounts;
}

function hostPath(mount: CgroupMount, path: string): string {
  const relative = posix.relative(mount.root, path);
  return relative.startsWith('..') ? mount.mountPoint : posix.join(mount.mountPoint, relative);
}

// Probing is the only reliable test: permissions, delegation and read-only cgroup mounts all look alike.
async function canCreateChild(dir: string): Promise<boolean> {
  try {
    await access(join(dir, 'cgroup.procs'));
    await pruneDead(dir);
    const probe = join(dir, `${PREFIX}probe-${process.pid}`);
    await mkdir(probe);
    await rmdir(probe);
    return true;
  } catch {
    return false;
  }
}

// Cgroups left by a process that crashed between creating and removing them.
async function pruneDead(dir: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [])) {
    const match = /^entropo-(\d+)-\d+$/.exec(entry);
    if (match && !isAlive(Number(match[1]))) await rmdir(join(dir, entry)).catch(() => undefined);
  }
}


function unescape(field: string): string {
  return field.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 ** 2);
}

function ignore(action: () => void): void {
  try {
    action();
  } catch {
    // Optional: the caller works without it.
  }
}
