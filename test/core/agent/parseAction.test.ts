import { describe, expect, it } from 'vitest';
import { parseAction } from '../../../src/core/agent/parseAction.js';
import { formatTextAction, parseTextAction } from '../../../src/core/llm/textFormat.js';
import { defaultTools } from '../../../src/core/tools/defaultTools.js';
import type { ModelResponse, ToolCall } from '../../../src/core/types.js';

const usage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };
const text = (content: string): ModelResponse => ({ content, toolCalls: [], usage });
const calls = (...toolCalls: ToolCall[]): ModelResponse => ({ content: 'thinking', toolCalls, usage });
const call = (name: string, args: string, id = 'c1'): ToolCall => ({ id, name, arguments: args });

function error(response: ModelResponse, format: 'tools' | 'text'): string {
  const parsed = parseAction(response, format, defaultTools);
  expect(parsed.ok).toBe(false);
  return parsed.ok ? '' : parsed.error;
}

describe('parseAction, text format', () => {
  it('parses one call with typed parameters and keeps the reasoning as the thought', () => {
    const parsed = parseAction(text('I will look.\n<function=file_editor>\n<parameter=command>view</parameter>\n<parameter=path>a.py</parameter>\n<parameter=view_range>[2, 5]</parameter>\n</function>'), 'text', defaultTools);
    expect(parsed).toMatchObject({ ok: true, thought: 'I will look.', args: { command: 'view', path: 'a.py', view_range: [2, 5] } });
    expect(parsed.ok && parsed.tool.spec.name).toBe('file_editor');
  });

  it('keeps multi-line values exactly, and round-trips through formatTextAction', () => {
    const args = { command: 'create', path: 'x.py', file_text: 'a = 1\n\nb = 2\n' };
    const parsed = parseTextAction(`t\n${formatTextAction('file_editor', args)}`);
    expect(parsed).toEqual({ thought: 't', name: 'file_editor', params: args });
  });

  it('accepts a call whose closing tag was cut by a stop sequence', () => {
    expect(parseAction(text('<function=execute_bash>\n<parameter=cmd>ls</parameter>\n'), 'text', defaultTools))
      .toMatchObject({ ok: true, args: { cmd: 'ls' } });
  });

  it('explains every malformed case', () => {
    expect(error(text('I am done thinking.'), 'text')).toMatch(/No function call found/);
    expect(error(text('<function=search><parameter=search_term>a</parameter></function><function=search><parameter=search_term>b</parameter></function>'), 'text')).toMatch(/Found 2 function calls/);
    expect(error(text('<function=delete_repo><parameter=path>.</parameter></function>'), 'text')).toMatch(/Unknown tool delete_repo. Available tools: file_editor, execute_bash, search, finish/);
    expect(error(text('<function=execute_bash><parameter=command>ls</parameter></function>'), 'text')).toMatch(/Unknown parameter command for execute_bash/);
    expect(error(text('<function=file_editor><parameter=command>view</parameter></function>'), 'text')).toMatch(/Missing required parameter path/);
    expect(error(text('<function=file_editor><parameter=command>insert</parameter><parameter=path>a</parameter><parameter=insert_line>two</parameter></function>'), 'text')).toMatch(/insert_line of file_editor must be of type integer/);
    expect(error(text('<function=search><parameter=search_term>a</parameter><parameter=search_term>b</parameter></function>'), 'text')).toMatch(/given twice/);
    expect(error(text('<function=search><parameter=search_term>a</function>'), 'text')).toMatch(/not closed/);
  });
});

describe('parseAction, native tool calls', () => {
  it('parses one call', () => {
    expect(parseAction(calls(call('execute_bash', '{"cmd":"ls"}')), 'tools', defaultTools)).toMatchObject({ ok: true, thought: 'thinking', args: { cmd: 'ls' } });
  });

  it('explains every malformed case', () => {
    expect(error(calls(), 'tools')).toMatch(/No tool call found/);
    expect(error(calls(call('search', '{"search_term":"a"}'), call('search', '{"search_term":"b"}', 'c2')), 'tools')).toMatch(/Found 2 tool calls/);
    expect(error(calls(call('execute_bash', '{"cmd": "ls"')), 'tools')).toMatch(/not a valid JSON object/);
    expect(error(calls(call('execute_bash', '["ls"]')), 'tools')).toMatch(/not a valid JSON object/);
    expect(error(calls(call('rm_rf', '{}')), 'tools')).toMatch(/Unknown tool rm_rf/);
    expect(error(calls(call('search', '{"search_term":"a","regex":true}')), 'tools')).toMatch(/Unknown parameter regex for search/);
  });
});
