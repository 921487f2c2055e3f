import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RankInput } from '../core/pipeline/rankInstances.js';
import type { Message, Role, ToolCall } from '../core/types.js';

interface InputLine {
  instance_id: string;
  problem_statement: string;
  base_commit?: string;
  test_command?: string;
  candidates: { id: string; patch: string; trajectory?: unknown }[];
}

const ROLES: readonly Role[] = ['system', 'user', 'assistant', 'tool'];

/**
 * The instances of a `rank` input file, read one line at a time as they are asked for. A line that is not
 * valid JSON, lacks a field or holds a trajectory that is not a list of chat messages becomes an `invalid`
 * input with the reason, so that the rest still runs.
 */
export async function* readRankInput(file: string): AsyncGenerator<RankInput> {
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    yield parseLine(line, lineNo);
  }
}

function parseLine(line: string, lineNo: number): RankInput {
  let value: InputLine;
  try {
    value = JSON.parse(line) as InputLine;
  } catch {
    return { kind: 'invalid', line: lineNo, error: `line ${lineNo} is not valid JSON.` };
  }
  const id = typeof value?.instance_id === 'string' ? value.instance_id : undefined;
  if (id === undefined || typeof value.problem_statement !== 'string' || !Array.isArray(value.candidates)) {
    return { kind: 'invalid', line: lineNo, instanceId: id, error: `line ${lineNo} needs instance_id, problem_statement and a candidates array.` };
  }
  for (const key of ['base_commit', 'test_command'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') return { kind: 'invalid', line: lineNo, instanceId: id, error: `line ${lineNo}: ${key} must be a string.` };
  }
  // Candidates are told apart by id everywhere (signals, ranking, explanations): one without, or two alike,
  // would have one's signals reported as the other's.
  const ids = value.candidates.map((c) => (typeof c?.id === 'string' && c.id !== '' ? c.id : undefined));
  const missing = ids.findIndex((c) => c === undefined);
  if (missing >= 0) return { kind: 'invalid', line: lineNo, instanceId: id, error: `line ${lineNo}: candidates[${missing}] needs an id (a non-empty string).` };
  const twice = ids.find((c, k) => ids.indexOf(c) !== k);
  if (twice !== undefined) return { kind: 'invalid', line: lineNo, instanceId: id, error: `line ${lineNo}: two candidates have the id ${JSON.stringify(twice)}; ids must be unique.` };
  const patch = value.candidates.findIndex((c) => c.patch !== undefined && typeof c.patch !== 'string');
  if (patch >= 0) return { kind: 'invalid', line: lineNo, instanceId: id, error: `line ${lineNo}: candidates[${patch}].patch must be a string.` };
  const trajectories = value.candidates.map((c, k) => trajectoryOf(c.trajectory, `candidates[${k}].trajectory`));
  const bad = trajectories.find((t): t is string => typeof t === 'string');
  if (bad !== undefined) return { kind: 'invalid', line: lineNo, instanceId: id, error: `line ${lineNo}: ${bad}` };
  return {
    kind: 'instance', instanceId: id, issue: value.problem_statement, baseCommit: value.base_commit, testCommand: value.test_command,
    candidates: value.candidates.map((c, k) => ({ id: c.id, patch: c.patch ?? '', messages: trajectories[k] as Message[] | undefined })),
  };
}

/** A candidate's trajectory (OpenAI chat messages) as messages, or what is wrong with it, naming where. */
function trajectoryOf(trajectory: unknown, where: string): Message[] | undefined | string {
  if (trajectory === undefined || trajectory === null) return undefined;
  if (!Array.isArray(trajectory)) return `${where} must be a list of chat messages, not ${kindOf(trajectory)}.`;
  const messages: Message[] = [];
  for (const [k, m] of trajectory.entries()) {
    const message = fromChat(m, `${where}[${k}]`);
    if (typeof message === 'string') return message;
    messages.push(message);
  }
  return messages;
}

/** One OpenAI chat message as ours, or what is wrong with it; content given as parts keeps their text. */
function fromChat(m: unknown, where: string): Message | string {
  if (!isObject(m)) return `${where} must be a chat message (an object with a role), not ${kindOf(m)}.`;
  if (!ROLES.includes(m.role as Role)) return `${where}.role must be one of ${ROLES.join(', ')}, not ${kindOf(m.role)}.`;
  const content = contentText(m.content);
  if (content === undefined) return `${where}.content must be a string, null or a list of content parts, not ${kindOf(m.content)}.`;
  if (m.tool_call_id !== undefined && typeof m.tool_call_id !== 'string') return `${where}.tool_call_id must be a string.`;
  if (m.tool_calls !== undefined && m.tool_calls !== null && !Array.isArray(m.tool_calls)) return `${where}.tool_calls must be a list.`;
  const toolCalls: ToolCall[] = [];
  for (const [k, c] of ((m.tool_calls ?? []) as unknown[]).entries()) {
    const fn = isObject(c) ? c.function : undefined;
    if (!isObject(c) || !isObject(fn) || typeof fn.name !== 'string' || typeof fn.arguments !== 'string' || (c.id !== undefined && typeof c.id !== 'string')) {
      return `${where}.tool_calls[${k}] must be {id, function: {name, arguments}} with strings.`;
    }
    toolCalls.push({ id: (c.id as string | undefined) ?? '', name: fn.name, arguments: fn.arguments });
  }
  return { role: m.role as Role, content, ...(toolCalls.length ? { toolCalls } : {}), ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}) };
}

// A part without text (an image) adds nothing the verifiers read.
function contentText(content: unknown): string | undefined {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || !content.every(isObject)) return undefined;
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
