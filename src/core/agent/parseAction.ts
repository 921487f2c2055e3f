import { parseTextAction } from '../llm/textFormat.js';
import type { Tool } from '../tools/tool.js';
import type { ModelResponse, ToolSpec } from '../types.js';

/** How actions are exchanged with the model: native tool calls or the text function-call format. */
export type ActionFormat = 'tools' | 'text';

/** A validated action, or the problem with the model's output written for the model. */
export type ParsedAction =
  | { ok: true; thought: string; tool: Tool; args: Record<string, unknown> }
  | { ok: false; thought: string; error: string };

/** Extracts exactly one valid action from a model response. */
export function parseAction(response: ModelResponse, format: ActionFormat, tools: readonly Tool[]): ParsedAction {
  const thought = response.content ?? '';
  let name: string;
  let raw: Record<string, unknown>;
  if (format === 'tools') {
    if (response.toolCalls.length !== 1) {
      const error = response.toolCalls.length === 0
        ? 'No tool call found. Call exactly one tool per reply.'
        : `Found ${response.toolCalls.length} tool calls; call exactly one tool per reply.`;
      return { ok: false, thought, error };
    }
    const call = response.toolCalls[0];
    name = call.name;
    try {
      const parsed: unknown = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      raw = parsed as Record<string, unknown>;
    } catch {
      return { ok: false, thought, error: `The arguments of ${name} are not a valid JSON object: ${call.arguments.slice(0, 200)}` };
    }
  } else {
    const parsed = parseTextAction(thought);
    if ('error' in parsed) return { ok: false, thought, error: parsed.error };
    name = parsed.name;
    raw = parsed.params;
    return validate(parsed.thought, name, raw, tools, true);
  }
  return validate(thought, name, raw, tools, false);
}

function validate(thought: string, name: string, raw: Record<string, unknown>, tools: readonly Tool[], fromText: boolean): ParsedAction {
  const tool = tools.find((t) => t.spec.name === name);
  if (!tool) {
    return { ok: false, thought, error: `Unknown tool ${name}. Available tools: ${tools.map((t) => t.spec.name).join(', ')}.` };
  }
  const props = tool.spec.parameters.properties;
  const unknown = Object.keys(raw).filter((key) => !(key in props));
  if (unknown.length > 0) {
    return { ok: false, thought, error: `Unknown parameter ${unknown.join(', ')} for ${name}. Parameters: ${Object.keys(props).join(', ')}.` };
  }
  const missing = tool.spec.parameters.required.filter((key) => raw[key] === undefined);
  if (missing.length > 0) return { ok: false, thought, error: `Missing required parameter ${missing.join(', ')} for ${name}.` };
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const coerced = fromText ? coerce(value as string, props[key]) : value;
    if (coerced === undefined) return { ok: false, thought, error: `Parameter ${key} of ${name} must be of type ${props[key].type}.` };
    args[key] = coerced;
  }
  return { ok: true, thought, tool, args };
}

// The text format carries every value as text; turn it into the type the schema declares.
function coerce(value: string, prop: ToolSpec['parameters']['properties'][string]): unknown {
  switch (prop.type) {
    case 'integer': {
      const n = Number(value.trim());
      return Number.isInteger(n) ? n : undefined;
    }
    case 'boolean':
      return value.trim() === 'true' ? true : value.trim() === 'false' ? false : undefined;
    case 'array':
      try {
        const parsed: unknown = JSON.parse(value);
        return Array.isArray(parsed) ? parsed : undefined;
      } catch {
        return undefined;
      }
    default:
      return value;
  }
}
