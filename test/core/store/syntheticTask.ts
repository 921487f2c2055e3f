/**
 * Deterministic task records of realistic size for crash, concurrency and benchmark runs: the same seed
 * always gives the same task, so a reader can check a record byte for byte against what the writer meant.
 * Content is code-like text from a fixed vocabulary, with observation sizes drawn like a real agent's
 * (file views of a few KB, short command outputs, an occasional clipped 10 KB dump). It holds no secrets, so
 * redaction leaves it unchanged.
 */
import { resolveConfig } from '../../../src/core/agent/config.js';
import type { StoredCandidate, TaskInput } from '../../../src/core/store/storeTypes.js';
import type { Message, ToolSpec } from '../../../src/core/types.js';

/** Shape of a synthetic task. */
export interface SyntheticOptions {
  candidates?: number;
  /** Steps per candidate; each step is an assistant turn and its observation. */
  steps?: number;
}

// The four tools in brief; importing the real ones would load the tool implementations (and tree-sitter) into
// every writer process of the crash test, which starts a hundred of them.
const TOOLS: ToolSpec[] = ['file_editor', 'execute_bash', 'search', 'finish'].map((name) => ({
  name, description: `The ${name} tool.`, parameters: { type: 'object', properties: { command: { type: 'string', description: 'What to do.' } }, required: ['command'] },
}));

const WORDS = ['page', 'count', 'total', 'items', 'result', 'value', 'index', 'offset', 'limit', 'cursor', 'buffer', 'parser',
  'token', 'node', 'child', 'parent', 'config', 'options', 'handler', 'request', 'response', 'cache', 'entry', 'record', 'batch',
  'queue', 'worker', 'state', 'error', 'message', 'path', 'file', 'line', 'column', 'range', 'start', 'end', 'size', 'chunk'];

/** A small seeded PRNG (mulberry32): fast, and the same sequence on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The task of `seed`; its issue starts with `synthetic task seed=<seed>` so a reader can regenerate it. */
export function syntheticTask(seed: number, options: SyntheticOptions = {}): TaskInput {
  const rand = prng(seed);
  const steps = options.steps ?? 30;
  const issue = `synthetic task seed=${seed}\n\n${paragraph(rand, 60)}`;
  const system = `You are a software engineering agent. ${paragraph(rand, 120)}`;
  const candidates: StoredCandidate[] = [];
  for (let k = 0; k < (options.candidates ?? 4); k += 1) {
    const messages: Message[] = [{ role: 'system', content: system }, { role: 'user', content: issue }];
    for (let s = 0; s < steps; s += 1) {
      messages.push({ role: 'assistant', content: `${paragraph(rand, 20 + Math.floor(rand() * 80))}\n\n${action(rand)}` });
      messages.push({ role: 'user', content: `Execution output of [execute_bash]:\n${observation(rand)}` });
    }
    candidates.push({
      id: `r${k}`, patch: patch(rand), changedFiles: ['src/pager/core.py'], exitReason: 'submitted', result: 'Fixed.',
      steps, usage: { promptTokens: 1000 * steps, completionTokens: 120 * steps, costUsd: 0 }, wallMs: 1000 + Math.floor(rand() * 9000),
      model: 'synthetic', temperature: 0.7, seed: seed + k, messages,
      signals: { finished: { status: 'ok', score: 1, detail: 'submitted' }, judge: { status: 'ok', score: Math.round(rand() * 100) / 100, detail: 'judge' } },
    });
  }
  return {
    issue, repo: { remoteUrl: 'https://github.com/acme/pager.git', head: 'a'.repeat(40), name: 'pager' },
    snapshot: { commit: 'b'.repeat(40), baseHead: 'a'.repeat(40) }, batchId: `batch-${seed}`,
    config: resolveConfig({ format: 'text' }), tools: TOOLS, candidates,
  };
}

function word(rand: () => number): string {
  return WORDS[Math.floor(rand() * WORDS.length)];
}

function paragraph(rand: () => number, words: number): string {
  return Array.from({ length: words }, () => word(rand)).join(' ');
}

function codeLine(rand: () => number, n: number): string {
  const indent = ' '.repeat(4 * Math.floor(rand() * 3));
  return `${String(n).padStart(6)}\t${indent}${word(rand)}_${word(rand)} = ${word(rand)}(${word(rand)}, ${Math.floor(rand() * 100)})`;
}

// Sizes like a real agent's: mostly command output and file views of 0.2-6 KB, now and then a clipped dump.
function observation(rand: () => number): string {
  const r = rand();
  const lines = r < 0.1 ? 250 : r < 0.5 ? 20 + Math.floor(rand() * 100) : 3 + Math.floor(rand() * 20);
  return Array.from({ length: lines }, (_, i) => codeLine(rand, i + 1)).join('\n');
}

function action(rand: () => number): string {
  if (rand() < 0.3) {
    const body = Array.from({ length: 5 + Math.floor(rand() * 30) }, (_, i) => codeLine(rand, i)).join('\n');
    return `<function=file_editor>\n<parameter=command>create</parameter>\n<parameter=path>src/${word(rand)}.py</parameter>\n<parameter=file_text>${body}</parameter>\n</function>`;
  }
  return `<function=execute_bash>\n<parameter=cmd>python -m pytest tests/test_${word(rand)}.py -q</parameter>\n</function>`;
}

function patch(rand: () => number): string {
  const lines = Array.from({ length: 10 + Math.floor(rand() * 30) }, () => `+    ${word(rand)}_${word(rand)} = ${word(rand)}(${Math.floor(rand() * 9)})`);
  return `diff --git a/src/pager/core.py b/src/pager/core.py\n--- a/src/pager/core.py\n+++ b/src/pager/core.py\n@@ -1,3 +1,${lines.length + 3} @@\n${lines.join('\n')}\n`;
}
