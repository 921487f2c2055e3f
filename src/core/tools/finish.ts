import { AgentError, ErrorReason } from '../errors.js';
import type { Tool } from './tool.js';

/** Ends the episode; only a run that called this counts as finished. */
export const finish: Tool = {
  spec: {
    name: 'finish',
    description: 'Finish the task when the issue is resolved. Use command "submit"; `result` may summarize the fix.',
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'Must be "submit".', enum: ['submit'] },
        result: { type: 'string', description: 'Optional summary of the fix.' },
      },
      required: ['command'],
    },
  },
  async run(args) {
    if (args.command !== 'submit') {
      throw new AgentError(ErrorReason.InvalidArgument, 'finish takes command "submit".');
    }
    const result = typeof args.result === 'string' ? args.result : '';
    return { observation: '<<< Finished >>>', finish: { result } };
  },
};
