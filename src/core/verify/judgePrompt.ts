import type { Message, ToolCall } from '../types.js';

// The judge must see exactly the prompt it was trained on: these are the trainer's templates
// (trainer/entropo_trainer/prompts/judge_*.txt; a test keeps the two identical).

/** The judge's instructions; the verdict is read from the token after `<judgement>`. */
export const JUDGE_SYSTEM = 'You review the work of a software engineering agent. You are given the issue the agent had to resolve, its full interaction log (its reasoning, the tools it called and what they returned) and the final patch it submitted. Decide whether the patch correctly resolves the issue without breaking existing behaviour. Answer with <judgement>YES</judgement> if it does and <judgement>NO</judgement> if it does not.';

/** The judge's question; `{issue}`, `{log}` and `{patch}` are filled in. */
export const JUDGE_USER = `[ISSUE]
{issue}
[/ISSUE]

[INTERACTION LOG]
{log}
[/INTERACTION LOG]

[PATCH]
{patch}
[/PATCH]

Does the patch resolve the issue? Answer <judgement>YES</judgement> or <judgement>NO</judgement>.
`;

const MIN_CLIP = 256;
const TOKENS_PER_CHAR = 0.3;

/** A native tool call written in the text action format, so the judge reads both formats alike. */
function renderCall(call: ToolCall): string {
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    args = { arguments: call.arguments };
  }
  const object = args && typeof args === 'object' && !Array.isArray(args) ? args as Record<string, unknown> : { arguments: args };
  const params = Object.entries(object).map(([k, v]) => `<parameter=${k}>${typeof v === 'string' ? v : JSON.stringify(v)}</parameter>\n`).join('');
  return `<function=${call.name}>\n${params}</function>`;
}

/** The interaction log entries: the assistant's turns and the observations, after the system prompt and the issue. */
function logEntries(continuation: readonly Message[]): [string, string][] {
  return continuation.map((m): [string, string] => m.role === 'assistant'
    ? ['ASSISTANT', [m.content, ...(m.toolCalls ?? []).map(renderCall)].join('\n').trim()]
    : ['OBSERVATION', m.content]);
}

function fill(issue: string, entries: [string, string][], patch: string): string {
  const log = entries.map(([kind, text]) => `[${kind}]\n${text}`).join('\n\n');
  return JUDGE_USER.replace('{issue}', () => issue).replace('{log}', () => log).replace('{patch}', () => patch || '(no patch recorded)');
}

// Clips the longest observation (else the longest assistant turn) to its head and tail quarters.
function clipLongest(entries: [string, string][]): boolean {
  for (const kind of ['OBSERVATION', 'ASSISTANT']) {
    const candidates = entries.filter(([k, text]) => k === kind && text.length > MIN_CLIP);
    if (candidates.length === 0) continue;
    const longest = candidates.reduce((a, b) => (b[1].length > a[1].length ? b : a));
    const text = longest[1];
    const keep = Math.max(Math.floor(text.length / 4), 16);
    longest[1] = `${text.slice(0, keep)}\n[... ${text.length - 2 * keep} characters omitted ...]\n${text.slice(-keep)}`;
    return true;
  }
  return false;
}

/** The tokens `judgeMessages` believes its messages take (characters times a typical tokens-per-character ratio). */
export function estimateJudgeTokens(messages: readonly Message[]): number {
  return Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) * TOKENS_PER_CHAR);
}

/**
 * The judge's messages for one candidate: the issue (as the agent saw it), the interaction log and the final
 * patch, with the longest observations clipped first until the prompt fits `maxTokens`; issue and patch are
 * never cut.
 */
export function judgeMessages(issue: string, trajectory: readonly Message[] | undefined, patch: string, maxTokens: number): Message[] {
  const hasRun = trajectory !== undefined && trajectory.length > 1;
  const shownIssue = hasRun ? trajectory[1].content : issue;
  const entries = hasRun ? logEntries(trajectory.slice(2)) : [];
  let user = fill(shownIssue, entries, patch);
  while ((JUDGE_SYSTEM.length + user.length) * TOKENS_PER_CHAR > maxTokens && clipLongest(entries)) user = fill(shownIssue, entries, patch);
  return [{ role: 'system', content: JUDGE_SYSTEM }, { role: 'user', content: user }];
}
