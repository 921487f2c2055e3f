/** Runs one bwrap process, optionally holding the sandbox back until its init process has joined a cgroup. */
import type { ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { ProcessResult, RunOptions } from '../types.js';
import { collectOutput, spawnGroup, type GroupChild } from '../process/groupProcess.js';
import { openSeccompProgram, SECCOMP_FD } from './seccomp.js';

// bwrap reports the sandbox's init on fd 3 and waits for a byte on fd 4 before it starts the command.
const STATUS_FD = 3;
const BLOCK_FD = 4;
/** Exit code of a command that never started because its cgroup could not be joined. */
export const JOIN_FAILED_EXIT = 125;

/**
 * Called with the host pid of the sandbox's init process, after bwrap cloned it and before anything of the
 * command runs; the command starts once the returned promise resolves.
 */
export type BeforeStart = (pid: number) => Promise<void>;

/** How the gate ended: released (''), failed with a reason, or bwrap ended before cloning (null). */
export type GateOutcome = string | null;

/** A spawned bwrap process, its gate, and how it ended. */
export interface BwrapChild {
  child: ChildProcess;
  /** Resolves '' once the sandbox was released, the reason if `beforeStart` failed, null if bwrap never cloned. */
  gate: Promise<GateOutcome>;
  exit: Promise<{ code: number | null; signal: string | null }>;
  closed: Promise<void>;
  /** Kills bwrap's process group, and with it the whole sandbox. */
  kill(): void;
  /** The child as started, for collecting its output. */
  started: GroupChild;
}

/**
 * Spawns `bwrap` with `args` (which end with `--` and the command) in its own process group, like
 * NodeProcessRunner, and with `beforeStart` inserts `--json-status-fd` / `--block-fd` so that the sandbox
 * waits for it. Only the sandbox's init is placed, before it forks the command, so no process of the
 * command starts outside; bwrap's own monitor process stays where it is and runs nothing else. Joining this
 * way overlaps the cgroup move (an RCU grace period on cgroup v1) with bwrap building the sandbox, instead
 * of paying both one after the other in a wrapper shell. If `beforeStart` rejects, the sandbox is killed
 * and the result has exit code 125 and the reason on stderr.
 */
export function bwrapProcess(bwrap: string, args: string[], options: RunOptions & Launch, beforeStart?: BeforeStart): Promise<ProcessResult> {
  const started = Date.now();
  const launched = launchBwrap(bwrap, args, options, beforeStart);
  return collectBwrap(launched, options, started);
}

/** How bwrap is started: directly, or through a launcher that first enters a mount namespace (an overlay's). */
export interface Launch {
  /** argv prefix that execs bwrap inside another mount namespace (`nsenter ... --`), keeping its pid and parent. */
  launcher?: string[];
}

/**
 * Spawns bwrap (see `bwrapProcess`); with `extraFds`, that many more pipes follow the gate's two (fd 5
 * onwards), for a command inside that reads its instructions from them.
 */
export function launchBwrap(
  bwrap: string, args: string[], options: Pick<RunOptions, 'cwd' | 'env'> & Launch, beforeStart?: BeforeStart, extraFds = 0,
): BwrapChild {
  const argv = beforeStart ? gated(args) : args;
  // bwrap leads a new process group; killing it makes the kernel kill the sandbox's init (--die-with-parent),
  // and with it every process in the sandbox's pid namespace. bwrap's exit ends the sandbox; the group kill
  // then also reaches anything the monitor left in its group.
  // The launcher execs bwrap in place, so bwrap is still our child: --die-with-parent and the pid it
  // reports for the cgroup mean the same as without it.
  const [file, ...rest] = options.launcher ? [...options.launcher, bwrap, ...argv] : [bwrap, ...argv];
  // The seccomp program (seccomp.ts), when the mounts load one, is read from its descriptor before anything runs.
  const program = args.includes('--seccomp') ? openSeccompProgram() : undefined;
  let started: GroupChild;
  try {
    started = spawnGroup(file, rest, { cwd: options.cwd, env: options.env, pipes: beforeStart ? 5 + extraFds : 3,
      passFd: program === undefined ? undefined : { at: SECCOMP_FD, fd: program } });
  } finally {
    if (program !== undefined) closeSync(program);
  }
  const { child } = started;
  const kill = () => started.kill();
  const exit = started.exit.then(({ code, signal, spawnError }) => {
    if (spawnError === undefined) return { code, signal };
    child.stderr?.emit('data', Buffer.from(spawnError));
    return { code: 127, signal: null };
  });
  const gate = beforeStart
    ? runGate(child.stdio[STATUS_FD] as Readable, child.stdio[BLOCK_FD] as Writable, beforeStart, kill)
    : Promise.resolve<GateOutcome>('');
  return { child, gate, exit, closed: started.closed, kill, started };
}

/**
 * Collects a launched bwrap's output under `options`' timeout, cancel signal, stdin and output limit.
 * Output that arrived before the call (none, for a command that waits for instructions) is kept too.
 */
export async function collectBwrap(launched: BwrapChild, options: RunOptions, started = Date.now()): Promise<ProcessResult> {
  let failure = '';
  void launched.gate.then((outcome) => {
    if (outcome) failure = `\n[sandbox] The command did not start: it could not be placed in its cgroup (${outcome}).\n`;
  });
  const { spawnError: _spawnError, ...result } = await collectOutput(launched.started, {
    timeoutMs: options.timeoutMs, signal: options.signal, stdin: options.stdin, maxOutputBytes: options.maxOutputBytes,
  }, started);
  const exit = await launched.exit;
  return failure
    ? { ...result, exitCode: JOIN_FAILED_EXIT, signal: null, stderr: result.stderr + failure }
    : { ...result, exitCode: exit.code, signal: exit.signal };
}

function gated(args: string[]): string[] {
  const end = args.indexOf('--');
  return [...args.slice(0, end), '--json-status-fd', String(STATUS_FD), '--block-fd', String(BLOCK_FD), ...args.slice(end)];
}

/**
 * Reads the init's pid from bwrap's first status line, runs `beforeStart`, then releases the sandbox. If
 * bwrap fails before it clones (a bad mount), the status stream just ends and bwrap's own error stands.
 */
function runGate(status: Readable, block: Writable, beforeStart: BeforeStart, kill: () => void): Promise<GateOutcome> {
  return new Promise((resolve) => {
    let buffered = '';
    let seen = false;
    const fail = (message: string) => { kill(); resolve(message); };
    status.on('close', () => { if (!seen) resolve(null); });
    status.on('data', (chunk: Buffer) => {
      if (seen) return;
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      seen = true;
      const pid = childPid(buffered.slice(0, newline));
      if (pid === null) return fail(`bwrap reported no process id: ${buffered.slice(0, newline)}`);
      beforeStart(pid).then(() => { block.end('1'); resolve(''); }, (error: unknown) => fail(error instanceof Error ? error.message : String(error)));
    });
  });
}

function childPid(line: string): number | null {
  try {
    const pid = Number((JSON.parse(line) as { 'child-pid'?: unknown })['child-pid']);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
