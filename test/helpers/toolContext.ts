import { readFileSync } from 'node:fs';
import { NodeProcessRunner } from '../../src/core/node/nodeProcessRunner.js';
import { NodeWorkspace } from '../../src/core/node/nodeWorkspace.js';
import type { ToolContext } from '../../src/core/tools/tool.js';

/** A real tool context over a directory: real files, real subprocesses. */
export function toolContext(root: string, overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    workspace: new NodeWorkspace(root),
    runner: new NodeProcessRunner(),
    toolTimeoutMs: 10_000,
    editHistory: new Map(),
    ...overrides,
  };
}

/** True while `pid` runs; a zombie (killed, not yet reaped by its parent) counts as gone. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
