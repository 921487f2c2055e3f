import type { ToolSpec } from '../types.js';

/** One action written in the text function-call format, before validation against a tool schema. */
export interface TextAction {
  thought: string;
  name: string;
  params: Record<string, string>;
}

const FUNCTION_OPEN = /<function\s*=\s*([^>\s]+)\s*>/g;

/**
 * Parses `reasoning <function=NAME><parameter=K>V</parameter>...</function>`, the format models trained on
 * the R2E-Gym scaffold emit. Returns an error string, written for the model, when there is not exactly one.
 */
export function parseTextAction(content: string): TextAction | { error: string } {
  const opens = [...content.matchAll(FUNCTION_OPEN)];
  if (opens.length === 0) {
    return { error: 'No function call found. End your reply with exactly one <function=NAME>...</function> block.' };
  }
  if (opens.length > 1) {
    return { error: `Found ${opens.length} function calls; write exactly one <function=NAME>...</function> block per reply.` };
  }
  const open = opens[0];
  const bodyStart = open.index! + open[0].length;
  const close = content.indexOf('</function>', bodyStart);
  // A missing close tag is common when generation stops at the stop sequence; accept the rest as the body.
  const body = content.slice(bodyStart, close < 0 ? undefined : close);
  const params: Record<string, string> = {};
  const paramPattern = /<parameter\s*=\s*([^>\s]+)\s*>([\s\S]*?)<\/parameter>/g;
  for (const match of body.matchAll(paramPattern)) {
    if (match[1] in params) return { error: `Parameter ${match[1]} is given twice.` };
    params[match[1]] = stripOneNewline(match[2]);
  }
  const leftover = body.replace(paramPattern, '').trim();
  if (leftover.includes('<parameter')) {
    return { error: 'A <parameter=KEY> tag is not closed with </parameter>.' };
  }
  return { thought: content.slice(0, open.index).trim(), name: open[1], params };
}

/** Describes the tools in the text format, for the system prompt of models without native tool calls. */
export function renderToolsForPrompt(specs: readonly ToolSpec[]): string {
  return specs.map((spec) => {
    const params = Object.entries(spec.parameters.properties).map(([name, p]) => {
      const required = spec.parameters.required.includes(name) ? 'required' : 'optional';
      const choices = p.enum ? ` Allowed values: ${p.enum.map((v) => `\`${v}\``).join(', ')}.` : '';
      return `  (${required}) ${name} (${p.type}): ${p.description}${choices}`;
    });
    return `---- BEGIN FUNCTION: ${spec.name} ----\nDescription: ${spec.description}\nParameters:\n${params.join('\n')}\n---- END FUNCTION ----`;
  }).join('\n\n');
}

/** Renders a call in the text format; used to write scripted trajectories and to show actions to people. */
export function formatTextAction(name: string, args: Record<string, unknown>): string {
  const params = Object.entries(args)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return text.includes('\n') ? `<parameter=${key}>\n${text}\n</parameter>` : `<parameter=${key}>${text}</parameter>`;
    })
    .join('\n');
  return `<function=${name}>\n${params}\n</function>`;
}

// Parameters are usually written on their own lines; the newline after the tag is layout, not content.
function stripOneNewline(value: string): string {
  return value.replace(/^\n/, '').replace(/\n$/, '');
}
