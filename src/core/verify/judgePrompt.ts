import { condense, estimateTokens } from '../agent/condense.js';
import { formatTextAction } from '../llm/textFormat.js';
import type { Message } from '../types.js';

/** The judge's instructions; the verdict is read from the token after `<judgement>`. */
export const JUDGE_SYSTEM = `You are an expert judge of coding agents. You read the full interaction log of an agent that tried to
resolve an issue in a repository, and the final patch it produced. Decide whether the patch resolves the
issue correctly: it must fix the reported behaviour, keep existing correct behaviour, and not only change
tests. Answer with <judgement>YES</judgement> or <judgement>NO</judgement> and nothing else.`;

/** Renders one message of a trajectory for the judge; tool calls in the text function-call format. */
function render(message: Message, index: number): string {
  // The first user message is the issue; later ones carry observations (text action format).
  const role = message.role === 'tool' || (message.role === 'user' && index > 0) ? 'OBSERVATION' : message.role === 'user' ? 'ISSUE' : 'AGENT';
  const calls = (message.toolCalls ?? []).map((call) => {
    let args: Record<string, unknown>;
    try { args = JSON.parse(call.arguments) as Record<string, unknown>; } catch { args = { raw: call.arguments }; }
    return formatTextAction(call.name, args);
  });
  return `[${role}]\n${[message.content, ...calls].filter(Boolean).join('\n')}`;
}

/**
 * The judge's messages for one candidate: the interaction log (system prompt dropped, longest observations
 * condensed first to fit `maxTokens`, never the issue) and the final patch.
 */
export function judgeMessages(issue: string, trajectory: readonly Message[] | undefined, patch: string, maxTokens: number): Message[] {
  const log: Message[] = trajectory && trajectory.length > 1
    ? trajectory.filter((m) => m.role !== 'system')
    : [{ role: 'user', content: issue }];
  const tail = `\n\n[FINAL PATCH]\n${patch}\n\nDid the agent resolve the issue? Answer <judgement>YES</judgement> or <judgement>NO</judgement>.`;
  // Leave room for the instructions, the patch and the answer; the log gets the rest.
  const budget = Math.max(1_000, maxTokens - estimateTokens([{ role: 'user', content: JUDGE_SYSTEM + tail }], 0.3) - 64);
  // condense() keeps the first two messages whole; put a placeholder first so the issue stays whole.
  const fitted = condense([{ role: 'system', content: '' }, ...log], budget, 0.3).slice(1);
  return [
    { role: 'system', content: JUDGE_SYSTEM },
    { role: 'user', content: `[INTERACTION LOG]\n${fitted.map(render).join('\n\n')}${tail}` },
  ];
}
