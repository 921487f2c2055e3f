/** Runs test/helpers/storeWriterMain.ts as a real child process and collects what it reported. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { TaskRecord } from '../../../src/core/store/storeTypes.js';
import { stepsOf } from '../../helpers/storeWriterMain.js';
import { PROJECT_ROOT } from '../../helpers/tempRepo.js';
import { syntheticTask } from './syntheticTask.js';

/** What one writer printed: `seed -> task id` of every append that returned. */
export interface WriterRun {
  pid: number;
  reported: Map<number, string>;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

/** Options of one writer run. */
export interface WriterOptions {
  dir: string;
  firstSeed: number;
  count: number;
  fsync: boolean;
  maxSteps: number;
  /** SIGKILL the writer this many ms after it said `ready`. */
  killAfterMs?: number;
}

/** Starts a writer and resolves when it has exited (by itself or by the kill). */
export function runWriter(options: WriterOptions): Promise<WriterRun> {
  const args = ['--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'helpers', 'storeWriterMain.ts'),
    options.dir, String(options.firstSeed), String(options.count), options.fsync ? '1' : '0', String(options.maxSteps)];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const reported = new Map<number, string>();
  let stdout = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    let nl: number;
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      if (line === 'ready' && options.killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
      const match = /^(\d+) (\S+)$/.exec(line);
      if (match) reported.set(Number(match[1]), match[2]);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  // A hard stop in case the writer hangs: the test must fail, not wait forever.
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ pid: child.pid ?? -1, reported, exit: { code, signal }, stderr });
    });
  });
}

/** True when a stored task is exactly the synthetic task its issue names (after the header fields). */
export function matchesSynthetic(task: TaskRecord, maxSteps: number): boolean {
  const seed = Number(/^synthetic task seed=(\d+)/.exec(task.issue)?.[1]);
  if (!Number.isInteger(seed)) return false;
  const { format: _f, kind: _k, id: _i, timestamp: _t, checksum: _c, ...content } = task;
  return isDeepStrictEqual(JSON.parse(JSON.stringify(content)), JSON.parse(JSON.stringify(syntheticTask(seed, { steps: stepsOf(seed, maxSteps) }))));
}

/** The seed a synthetic task was made from. */
export function seedOf(task: TaskRecord): number {
  return Number(/^synthetic task seed=(\d+)/.exec(task.issue)?.[1]);
}
