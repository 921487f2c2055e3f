// Harness overhead per step of the agent loop, with a zero-latency scripted model.
// Run: npx tsx bench/agentLoop.bench.ts
// The same 200 actions run (a) through runAgent and (b) as direct tool calls with no loop; the difference per
// step is what the harness adds (parsing, condensation, trajectory write, events). Tool time is reported apart.
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from '../src/core/agent/config.js';
import { parseAction } from '../src/core/agent/parseAction.js';
import { runAgent } from '../src/core/agent/runAgent.js';
import type { AgentEvent } from '../src/core/agent/agentEvents.js';
import { Emitter } from '../src/core/events.js';
import { formatTextAction } from '../src/core/llm/textFormat.js';
import { ScriptedModel } from '../src/core/llm/scriptedModel.js';
import { NodeProcessRunner } from '../src/core/node/nodeProcessRunner.js';
import { NodeWorkspace } from '../src/core/node/nodeWorkspace.js';
import { defaultTools } from '../src/core/tools/defaultTools.js';

const STEPS = 200;
const ROUNDS = 5;
const actions = Array.from({ length: STEPS }, (_, i) => i % 4 === 3
  ? formatTextAction('execute_bash', { cmd: 'true' })
  : formatTextAction('file_editor', { command: 'view', path: 'pager/core.py', view_range: [1, 20 + (i % 10)] }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function throughLoop(root: string, traj: string): Promise<{ wall: number; harness: number[]; tool: number[] }> {
  const model = new ScriptedModel(actions.map((content) => ({ content: `thinking\n${content}` })));
  const events = new Emitter<AgentEvent>();
  const harness: number[] = [];
  const tool: number[] = [];
  let last = 0;
  events.subscribe((e) => {
    if (e.type === 'model_call') last = performance.now();
    if (e.type === 'step') { harness.push(performance.now() - last - e.step.toolMs); tool.push(e.step.toolMs); }
  });
  const started = performance.now();
  await runAgent({ model, workspace: new NodeWorkspace(root), runner: new NodeProcessRunner(), issue: 'bench',
    config: resolveConfig({ format: 'text', limits: { maxSteps: STEPS } }), trajectoryFile: traj, events });
  return { wall: performance.now() - started, harness, tool };
}

async function direct(root: string): Promise<number> {
  const context = { workspace: new NodeWorkspace(root), runner: new NodeProcessRunner(), toolTimeoutMs: 90_000, editHistory: new Map() };
  const started = performance.now();
  for (const content of actions) {
    const parsed = parseAction({ content, toolCalls: [], usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } }, 'text', defaultTools);
    if (parsed.ok) await parsed.tool.run(parsed.args, context);
  }
  return performance.now() - started;
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'entropo-bench-loop-'));
  const trajDir = mkdtempSync(path.join(tmpdir(), 'entropo-bench-traj-'));
  cpSync(path.join(__dirname, '..', 'examples', 'pagination', 'repo'), work, { recursive: true });
  const loopWalls: number[] = [];
  const directWalls: number[] = [];
  const harness: number[] = [];
  const tool: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = await throughLoop(work, path.join(trajDir, `${round}.jsonl`));
    loopWalls.push(r.wall);
    if (round > 0) { harness.push(...r.harness); tool.push(...r.tool); }
    directWalls.push(await direct(work));
  }
  rmSync(work, { recursive: true, force: true });
  rmSync(trajDir, { recursive: true, force: true });
  const perStepLoop = median(loopWalls.slice(1)) / STEPS;
  const perStepDirect = median(directWalls.slice(1)) / STEPS;
  console.log(`Command: npx tsx bench/agentLoop.bench.ts  (${cpus().length} cores, ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version})`);
  console.log(`${STEPS} steps per run (3 of 4 file views, 1 of 4 \`true\` in bash), ${ROUNDS - 1} measured rounds after a warm-up\n`);
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| median harness time per step (step wall minus tool time) | ${median(harness).toFixed(3)} ms |`);
  console.log(`| p90 harness time per step | ${[...harness].sort((a, b) => a - b)[Math.floor(harness.length * 0.9)].toFixed(3)} ms |`);
  console.log(`| median tool time per step, all steps | ${median(tool).toFixed(3)} ms |`);
  console.log(`| median tool time per bash step (subprocess) | ${median(tool.filter((_, i) => i % 4 === 3)).toFixed(3)} ms |`);
  console.log(`| wall per step through the loop | ${perStepLoop.toFixed(3)} ms |`);
  console.log(`| wall per step, same tool calls without the loop | ${perStepDirect.toFixed(3)} ms |`);
  console.log(`| loop / direct ratio | ${(perStepLoop / perStepDirect).toFixed(2)}x (added ${(perStepLoop - perStepDirect).toFixed(3)} ms per step) |`);
}

void main();
