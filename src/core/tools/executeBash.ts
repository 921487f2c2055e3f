import { AgentError, ErrorReason } from '../errors.js';
import { clip, MAX_OBSERVATION_CHARS, type Tool } from './tool.js';

/** Runs a bash command in the repository root, with a timeout that kills the whole process group. */
export const executeBash: Tool = {
  spec: {
    name: 'execute_bash',
    description: [
      'Run a bash command in the repository root and see its exit code, stdout and stderr.',
      '* Background processes started by the command are stopped when it ends.',
      '* Commands time out (the whole process tree is killed); do not start servers or interactive programs.',
      '* Long output is clipped; filter it with grep, head or tail.',
    ].join('\n'),
    parameters: {
      type: 'object',
      properties: { cmd: { type: 'string', description: 'The bash command to run.' } },
      required: ['cmd'],
    },
  },
  async run(args, context) {
    const cmd = args.cmd;
    if (typeof cmd !== 'string' || cmd.trim() === '') {
      throw new AgentError(ErrorReason.InvalidArgument, 'Parameter cmd is required: the bash command to run.');
    }
    const result = await context.runner.shell(cmd, {
      cwd: context.workspace.root,
      timeoutMs: context.toolTimeoutMs,
      signal: context.signal,
      maxOutputBytes: MAX_OBSERVATION_CHARS * 4,
    });
    if (result.cancelled) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
    const head = result.timedOut
      ? `The command timed out after ${Math.round(context.toolTimeoutMs / 1000)} s and was killed with its child processes.`
      : `Exit code: ${result.exitCode ?? `killed by ${result.signal}`}`;
    const body = `[STDOUT]\n${result.stdout}\n[STDERR]\n${result.stderr}`;
    return { observation: `${head}\nExecution output of [execute_bash]:\n${clip(body)}` };
  },
};
