/**
 * A child process that runs one batch of scripted rollouts through `runBatch`, for the tests that kill a
 * batch with SIGKILL under each isolation. It prints `workspaces <json>` once the workspaces exist and
 * `step <runId>` after each step, so the parent can time its kill.
 *
 * Usage: node --import tsx test/helpers/batchMain.ts '<json: repo, issue, script, samples, outDir, baseDir, isolation>'
 */
import { resolveConfig } from '../../src/core/agent/config.js';
import { Emitter } from '../../src/core/events.js';
import { createModelFactory } from '../../src/core/llm/createModel.js';
import type { BatchEvent } from '../../src/core/sampling/batchTypes.js';
import { runBatch } from '../../src/core/sampling/runBatch.js';
import type { IsolationMode } from '../../src/core/worktree/isolation.js';

/** What the parent passes, as one JSON argument. */
export interface BatchMainInput {
  repo: string;
  issue: string;
  script: string;
  samples: number;
  outDir: string;
  baseDir: string;
  isolation: IsolationMode;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]) as BatchMainInput;
  const events = new Emitter<BatchEvent>();
  events.subscribe((event) => {
    if (event.type === 'worktrees_ready') process.stdout.write(`workspaces ${JSON.stringify(event.paths)}\n`);
    if (event.type === 'step') process.stdout.write(`step ${event.runId}\n`);
  });
  await runBatch({
    repoDir: input.repo, issue: input.issue, samples: input.samples, outDir: input.outDir, worktreeBaseDir: input.baseDir,
    isolation: input.isolation, config: resolveConfig({ format: 'text' }), events,
    model: await createModelFactory({ kind: 'scripts', files: [input.script] }),
  });
}

if (process.argv[1]?.endsWith('batchMain.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
