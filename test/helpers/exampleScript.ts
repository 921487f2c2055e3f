import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAction } from '../../src/core/agent/parseAction.js';
import { defaultTools } from '../../src/core/tools/defaultTools.js';
import { EXAMPLE_DIR } from './tempRepo.js';
import type { ScriptedReply } from './openAiServer.js';

/** A recorded text-format script of the example, as server replies in the requested action format. */
export function exampleReplies(name: string, format: 'text' | 'tools'): ScriptedReply[] {
  const file = JSON.parse(readFileSync(path.join(EXAMPLE_DIR, 'scripted', `${name}.json`), 'utf8')) as { responses: { content: string }[] };
  return file.responses.map((response, i) => {
    if (format === 'text') return { content: response.content };
    const parsed = parseAction({ content: response.content, toolCalls: [], usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } }, 'text', defaultTools);
    if (!parsed.ok) throw new Error(`script ${name} step ${i}: ${parsed.error}`);
    return { content: parsed.thought, toolCalls: [{ id: `call_${i}`, name: parsed.tool.spec.name, arguments: JSON.stringify(parsed.args) }] };
  });
}
