/**
 * Bounds what a task record stores. The model saw every observation and reply whole; training on a 2 MB
 * directory dump or a runaway 80 MB reply teaches nothing and makes a record that editors, `jq` and the
 * exporters choke on. Long texts keep their head and tail around a marker that says how much was left out,
 * and every clip is listed in the record.
 */
import { AgentError, ErrorReason } from '../errors.js';
import type { Message, ToolCall } from '../types.js';
import type { StoreClip, TaskInput } from './storeTypes.js';

/** Limits of `boundTask`. */
export interface StoreBounds {
  /** Characters kept of one message's content or one tool call's arguments (default 64 KiB). */
  maxMessageChars?: number;
  /** Bytes of one record as written, JSON included (default 16 MiB). */
  maxRecordBytes?: number;
}

/** The defaults of StoreBounds. */
export const DEFAULT_MAX_MESSAGE_CHARS = 64 * 1024;
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
// Below this a message says too little to train on; a record that still does not fit is refused instead.
const MIN_MESSAGE_CHARS = 1024;

/**
 * The task with every message content and tool-call argument text clipped to the message limit, and, when the
 * record is still over the record cap, clipped again with half the limit until it fits; `clips` lists each one.
 */
export function boundTask(input: TaskInput, bounds: StoreBounds = {}): TaskInput {
  const maxRecordBytes = bounds.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  for (let limit = bounds.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS; ; limit = Math.floor(limit / 2)) {
    const task = clipTask(input, Math.max(limit, MIN_MESSAGE_CHARS));
    const bytes = Buffer.byteLength(JSON.stringify(task));
    if (bytes <= maxRecordBytes) return task;
    if (limit <= MIN_MESSAGE_CHARS) {
      throw new AgentError(ErrorReason.InvalidArgument, `The task record would be ${bytes} bytes, over the store's cap of ${maxRecordBytes} bytes `
        + `even with every message clipped to ${MIN_MESSAGE_CHARS} characters (its patches alone are too large); it was not recorded.`);
    }
  }
}

function clipTask(input: TaskInput, limit: number): TaskInput {
  const clips: StoreClip[] = [];
  const candidates = input.candidates.map((c) => ({
    ...c,
    messages: c.messages.map((m, index) => clipMessage(m, limit, (field, originalChars) => clips.push({ candidateId: c.id, message: index, field, originalChars, keptChars: limit }))),
  }));
  return { ...input, candidates, ...(clips.length > 0 ? { clips } : {}) };
}

function clipMessage(m: Message, limit: number, note: (field: StoreClip['field'], originalChars: number) => void): Message {
  let content = m.content;
  if (content.length > limit) {
    note('content', content.length);
    content = clipText(content, limit);
  }
  const toolCalls = m.toolCalls?.map((call): ToolCall => {
    if (call.arguments.length <= limit) return call;
    note('arguments', call.arguments.length);
    return { ...call, arguments: clipArguments(call.arguments, limit) };
  });
  return { ...m, content, ...(toolCalls ? { toolCalls } : {}) };
}

/** The head and tail of `text` around a marker, `limit` characters in all (the marker included). */
export function clipText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const marker = `\n[... ${text.length - limit} of ${text.length} characters clipped by the preference store; the model saw them all ...]\n`;
  const keep = Math.max(0, limit - marker.length);
  const head = Math.ceil(keep / 2);
  return text.slice(0, head) + marker + text.slice(text.length - (keep - head));
}

// Arguments stay valid JSON where they were: exporters and trainers parse them. Long string values are
// clipped each to a share of the limit; text that was not JSON is clipped as text.
function clipArguments(text: string, limit: number): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return clipText(text, limit);
  }
  if (typeof parsed !== 'object' || parsed === null) return clipText(text, limit);
  const values = Object.entries(parsed as Record<string, unknown>);
  const share = Math.max(64, Math.floor(limit / Math.max(1, values.length)));
  const clipped = JSON.stringify(Object.fromEntries(values.map(([k, v]) => [k, typeof v === 'string' ? clipText(v, share) : v])));
  return clipped.length <= limit ? clipped : JSON.stringify({ clipped: clipText(text, limit - 32) });
}
