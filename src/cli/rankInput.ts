import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RankInput } from '../core/pipeline/rankInstances.js';
import type { Message, ToolCall } from '../core/types.js';

interface InputLine {
  instance_id: string;
  problem_statement: string;
  base_commit?: string;
  test_command?: string;
  candidates: { id: string; patch: string; trajectory?: ChatMessage[] }[];
}
interface ChatMessage { role: Message['role']; content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }

/**
 * The instances of a `rank` input file, read one line at a time as they are asked for. A line that is not
 * valid JSON or lacks a field becomes an `invalid` input with the reason, so that the rest still runs.
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
  return {
    kind: 'instance', instanceId: id, issue: value.problem_statement, baseCommit: value.base_commit, testCommand: value.test_command,
    candidates: value.candidates.map((c) => ({ id: c.id, patch: c.patch ?? '', messages: c.trajectory?.map(fromChat) })),
  };
}

function fromChat(m: ChatMessage): Message {
  const toolCalls: ToolCall[] | undefined = m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
  return { role: m.role, content: m.content ?? '', ...(toolCalls ? { toolCalls } : {}), ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}) };
}
