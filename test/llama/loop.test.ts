/**
 * The whole loop on a CPU with a real model: rollouts of SmolLM2-135M-Instruct through llama.cpp's server
 * are recorded by `entropo run`, decisions are made on them, `entropo export` writes them as KTO examples (the
 * model fixes nothing, so both patches are empty: the same patch, which makes no DPO pair), `entropo train`
 * fine-tunes the same GGUF model, and llama.cpp serves it back with the adapter, which a new
 * rollout then runs against.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreferenceStore } from '../../src/core/store/preferenceStore.js';
import { sandbox } from '../core/sandbox/helpers.js';
import { runCli } from '../helpers/cli.js';
import { llamaForTests, loraAdapters, nextTokenLogprobs, startLlamaServer, tokenize, type LlamaServer } from '../helpers/llamaServer.js';
import { EXAMPLE_DIR, exampleRepo, PROJECT_ROOT, tempDir } from '../helpers/tempRepo.js';

const run = promisify(execFile);
const { setup, skip } = llamaForTests();
const why = skip ?? (sandbox.available ? undefined : `the model's commands need the sandbox: ${sandbox.reason}`);
/** The GGUF base's conversion is kept between runs: the second run of this test does not redo it. */
const GGUF_CACHE = path.join(PROJECT_ROOT, '.entropo', 'cache', 'gguf');
const PYTHON = path.join(PROJECT_ROOT, 'trainer', '.venv', 'bin', 'python');
const PROMPT = '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n';
const cli = (args: string[]) => runCli(args, { OMP_NUM_THREADS: '2' });

describe.skipIf(why !== undefined)(`the loop closed on a CPU with SmolLM2-135M-Instruct${why ? ` (skipped: ${why})` : ''}`, () => {
  const work = tempDir('entropo-loop-');
  const servers: LlamaServer[] = [];
  beforeAll(async () => { servers.push(await startLlamaServer(setup!, { contextTokens: 16_384, parallel: 2 })); }, 180_000);
  afterAll(async () => {
    for (const server of servers) await server.close();
    work.cleanup();
  });

  it('records real rollouts, trains on the decisions, and serves the adapter back through llama.cpp', async () => {
    const repo = exampleRepo();
    try {
      // 1. Two rollouts, recorded. The model fixes nothing, but its turns and the observations are real.
      const store = path.join(work.dir, 'store');
      const rollouts = ['--format', 'tools', '--max-steps', '2', '--max-new-tokens', '64', '--seed', '3', '--sandbox', 'required'];
      const first = await cli(['run', '--repo', repo.dir, '--issue', path.join(EXAMPLE_DIR, 'issue.md'), '--base-url', servers[0].url,
        '--model', servers[0].alias, '--samples', '2', '--store', store, '--out', path.join(work.dir, 'run-1'), ...rollouts]);
      expect([0, 3], first.stderr).toContain(first.code);
      const result = JSON.parse(readFileSync(path.join(work.dir, 'run-1', 'result.json'), 'utf8')) as {
        taskId: string; candidates: { id: string; exitReason: string; steps: number; usage: { promptTokens: number } }[] };
      expect(result.candidates.map((c) => c.id).sort()).toEqual(['r0', 'r1']);
      for (const c of result.candidates) {
        expect(['submitted', 'limits_exceeded', 'format_error']).toContain(c.exitReason);
        expect(c.usage.promptTokens).toBeGreaterThan(0);
      }

      // 2. Decisions, recorded as the CLI and the extension record them; 3. exported as labelled trajectories
      const recorded = PreferenceStore.open(store);
      await recorded.appendDecision({ taskId: result.taskId, candidateId: 'r0', decision: 'applied' });
      await recorded.appendDecision({ taskId: result.taskId, candidateId: 'r1', decision: 'rejected' });
      const prefs = path.join(work.dir, 'prefs.jsonl');
      const exported = await cli(['export', '--format', 'entropo-kto', '--store', store, '--out', prefs]);
      expect(exported.code, exported.stderr).toBe(0);
      const lines = readFileSync(prefs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { format: string; label: boolean });
      expect(lines.map((l) => l.label).sort()).toEqual([false, true]);
      expect(lines[0].format).toMatch(/^entropo-kto-1\./);

      // 4. Fine-tuned on the GGUF file the server runs: 2 steps at a high rate, so that the updates show
      // through the quantization
      const out = path.join(work.dir, 'adapter');
      const trained = await cli(['train', '--method', 'entropo-kto', '--base-model', setup!.model, '--data', prefs, '--out', out, '--cpu-ok', '--',
        '--epochs', '2', '--grad-accum', '1', '--lr', '1.5e-2', '--max-length', '2048', '--no-gradient-checkpointing', '--gguf-cache', GGUF_CACHE]);
      expect(trained.code, trained.stderr.slice(-2000)).toBe(0);
      const adapter = path.join(out, 'adapter.gguf');
      expect(existsSync(adapter)).toBe(true);
      expect(trained.stdout).toContain(`Serve it with llama.cpp:\n  llama-server -m ${setup!.model} --lora ${adapter}\n`);
      expect(trained.stdout).toContain(`Serve it with Ollama:\n  ollama create entropo -f ${path.join(out, 'Modelfile')}\n`);
      expect(readFileSync(path.join(out, 'Modelfile'), 'utf8')).toBe(`FROM ${setup!.model}\nADAPTER ${adapter}\n`);

      // 5. Served back by llama.cpp, which reports the adapter loaded
      const served = await startLlamaServer(setup!, { lora: [adapter], contextTokens: 16_384, parallel: 2 });
      servers.push(served);
      expect(await loraAdapters(served)).toEqual([expect.objectContaining({ id: 0, path: adapter, scale: 1 })]);

      // The adapter moves the next-token log-probs of a fixed prompt, as transformers says it should
      const prompt = await tokenize(served, PROMPT);
      const without = await nextTokenLogprobs(served, prompt, 0);
      const withIt = await nextTokenLogprobs(served, prompt, 1);
      const ids = [...without.keys()].filter((id) => withIt.has(id)).slice(0, 20);
      expect(ids.length).toBeGreaterThanOrEqual(10);
      const shift = ids.map((id) => withIt.get(id)! - without.get(id)!);
      expect(Math.max(...shift.map(Math.abs))).toBeGreaterThan(0.3);
      const { stdout } = await run(PYTHON, [path.join(PROJECT_ROOT, 'test', 'helpers', 'adapterShift.py'), setup!.model, GGUF_CACHE,
        path.join(out, 'adapter'), JSON.stringify(prompt), JSON.stringify(ids)], { cwd: path.join(PROJECT_ROOT, 'trainer'), env: { ...process.env, OMP_NUM_THREADS: '2' } });
      const expected = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
      // Quantized inference adds about 0.2 nats of noise to each shift; the direction must agree
      expect(correlation(shift, ids.map((id) => expected[String(id)]))).toBeGreaterThan(0.8);

      // 6. A new rollout against the adapter
      const again = await cli(['run', '--repo', repo.dir, '--issue', path.join(EXAMPLE_DIR, 'issue.md'), '--base-url', served.url,
        '--model', served.alias, '--samples', '1', '--no-record', '--out', path.join(work.dir, 'run-2'), ...rollouts]);
      expect([0, 3], again.stderr).toContain(again.code);
      const second = JSON.parse(readFileSync(path.join(work.dir, 'run-2', 'result.json'), 'utf8')) as { candidates: { exitReason: string; steps: number }[] };
      expect(second.candidates).toHaveLength(1);
      expect(['submitted', 'limits_exceeded', 'format_error']).toContain(second.candidates[0].exitReason);
      expect(second.candidates[0].steps).toBeGreaterThanOrEqual(1);
    } finally {
      repo.cleanup();
    }
  }, 1_200_000);
});

function correlation(a: number[], b: number[]): number {
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ma, mb] = [mean(a), mean(b)];
  const cov = a.reduce((s, v, i) => s + (v - ma) * (b[i] - mb), 0);
  const norm = (x: number[], m: number) => Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0));
  return cov / (norm(a, ma) * norm(b, mb));
}
