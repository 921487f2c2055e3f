import { runProcess } from '../process/groupProcess.js';
import type { ProcessResult, ProcessRunner, RunOptions } from '../types.js';
import { scrubEnv } from './scrubEnv.js';

/** Runs commands as Node child processes, each in its own process group so a timeout kills the whole tree. */
export class NodeProcessRunner implements ProcessRunner {
  shell(command: string, options: RunOptions): Promise<ProcessResult> {
    return this.exec('bash', ['-c', command], options);
  }

  async exec(file: string, args: string[], options: RunOptions): Promise<ProcessResult> {
    const { spawnError, ...result } = await runProcess(file, args, {
      cwd: options.cwd, env: options.env ?? scrubEnv(process.env), stdin: options.stdin,
      timeoutMs: options.timeoutMs, signal: options.signal, maxOutputBytes: options.maxOutputBytes,
    });
    // A program that cannot start reads like a shell's "command not found".
    return spawnError === undefined ? result : { ...result, exitCode: 127, signal: null, stderr: result.stderr + spawnError };
  }
}
