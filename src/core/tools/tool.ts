import type { ProcessRunner, ToolSpec, Workspace } from '../types.js';

/** What a tool needs from the run it belongs to. */
export interface ToolContext {
  workspace: Workspace;
  runner: ProcessRunner;
  signal?: AbortSignal;
  /** Per-call timeout for commands. */
  toolTimeoutMs: number;
  /** Previous contents of edited files, for `undo_edit`, keyed by absolute path. */
  editHistory: Map<string, (string | null)[]>;
}

/** The result of one tool call; `finish` is set only by the finish tool. */
export interface ToolResult {
  observation: string;
  finish?: { result: string };
}

/** One tool: its schema as the model sees it and its implementation. */
export interface Tool {
  spec: ToolSpec;
  run(args: Record<string, unknown>, context: ToolContext): Promise<ToolResult>;
}

/** Maximum characters of one observation; longer output is clipped with a visible marker. */
export const MAX_OBSERVATION_CHARS = 10_000;

/** Clips text to `max` characters, keeping head and tail, with a marker saying how much was cut. */
export function clip(text: string, max = MAX_OBSERVATION_CHARS): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.6);
  const tail = max - head;
  const cut = text.length - head - tail;
  return `${text.slice(0, head)}\n<response clipped: ${cut} characters omitted>\n${text.slice(text.length - tail)}`;
}
