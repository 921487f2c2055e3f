import { spawn } from 'node:child_process';
import type { ProcessResult, ProcessRunner, RunOptions } from '../types.js';
import { OutputClip } from './outputClip.js';
import { scrubEnv } from './scrubEnv.js';

const DEFAULT_MAX_OUTPUT = 1024 * 1024;

/** Runs commands as Node child processes, each in its own process group so a timeout kills the whole tree. */
export class NodeProcessRunner implements ProcessRunner {
  shell(command: string, options: RunOptions): Promise<ProcessResult> {
    return this.exec('bash', ['-c', command], options);
  }

  exec(file: string, args: string[], options: RunOptions): Promise<ProcessResult> {
    const started = Date.now();
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    return new Promise((resolve) => {
      // detached: the child leads a new process group, so kill(-pid) reaches its grandchildren too.
      const child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env ?? scrubEnv(process.env),
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out = new OutputClip(limit);
      const err = new OutputClip(limit);
      let timedOut = false;
      let cancelled = false;
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is already gone.
        }
      };
      const timer = setTimeout(() => { timedOut = true; killGroup(); }, options.timeoutMs);
      const onAbort = () => { cancelled = true; killGroup(); };
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin ?? '');
      let settled = false;
      const finish = (exitCode: number | null, signal: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(drain);
        options.signal?.removeEventListener('abort', onAbort);
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({
          exitCode, signal, stdout: out.text(), stderr: err.text(), timedOut, cancelled,
          truncated: out.truncated || err.truncated, durationMs: Date.now() - started,
        });
      };
      let drain: NodeJS.Timeout | undefined;
      child.on('error', (error) => { err.push(Buffer.from(String(error.message))); finish(127, null); });
      child.on('exit', (code, signal) => {
        // Background children left in the group (`server &`) must not outlive the command; they also hold
        // the pipes open, so 'close' would wait for them. A process that left the group is not waited for.
        killGroup();
        drain = setTimeout(() => finish(code, signal), 2000);
        child.on('close', () => finish(code, signal));
      });
    });
  }
}
