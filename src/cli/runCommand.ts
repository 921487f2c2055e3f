import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from '../core/agent/config.js';
import { Emitter } from '../core/events.js';
import { createModelFactory, type ModelSource } from '../core/llm/createModel.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_STREAM_IDLE_TIMEOUT_MS } from '../core/llm/openAiModel.js';
import { fixIssue, type FixEvent } from '../core/pipeline/fixIssue.js';
import { MAX_SAMPLES } from '../core/sampling/runBatch.js';
import { localVerifierProvider } from '../core/verify/local/localVerifier.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { defaultStoreDir } from '../core/store/storeLocation.js';
import { releaseSnapshot } from '../core/worktree/snapshot.js';
import { renderCandidates } from './candidateTable.js';
import { CONTAINMENT_FLAGS, containmentFromFlags } from './containmentFlags.js';
import { EXIT, outcomeExitCode } from './exitCodes.js';
import { judgeFromFlags, localModelFromFlags, selectorFromFlags, testOptionsFromFlags, VERIFY_FLAGS } from './verifyFlags.js';
import { numberFlag, parseFlags } from './options.js';
import { progressPrinter } from './progress.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo run --issue FILE|TEXT (--base-url URL --model NAME | --script FILE...) [options]

Runs the agent N times in parallel, each rollout in its own git worktree of a snapshot of the repository
(your working tree is never changed), verifies and ranks the candidate patches, and records the run as
preference data. The API key is read from the
ENTROPO_API_KEY environment variable (or OPENAI_API_KEY), never from a flag.`;

const FLAGS = {
  repo: { type: 'string', value: 'DIR', help: 'Repository to work on (default: the current directory).' },
  issue: { type: 'string', value: 'FILE|TEXT', help: 'The issue: a file to read, or the text itself.' },
  'base-url': { type: 'string', value: 'URL', help: 'OpenAI-compatible endpoint, e.g. http://localhost:8000/v1.' },
  model: { type: 'string', value: 'NAME', help: 'Model name at the endpoint.' },
  script: { type: 'string', multiple: true, value: 'FILE', help: 'Replay a recorded model script instead of calling a model; repeat to give rollouts different scripts (round-robin).' },
  format: { type: 'string', value: 'tools|text', help: 'Action format: native tool calls, or the text function-call format (default: tools; text for scripts).' },
  samples: { type: 'string', short: 'n', value: 'N', help: `Number of rollouts, 1 to ${MAX_SAMPLES} (default 4).` },
  concurrency: { type: 'string', value: 'K', help: 'Rollouts running at once (default: all).' },
  temperature: { type: 'string', value: 'T', help: 'Sampling temperature (default 0.7).' },
  'top-p': { type: 'string', value: 'P', help: 'Nucleus sampling (default 0.8).' },
  seed: { type: 'string', value: 'S', help: 'Base seed; rollout k uses S + k.' },
  extra: { type: 'string', value: 'JSON', help: 'Extra sampling parameters sent as is, e.g. \'{"top_k":20,"repetition_penalty":1.05}\' for vLLM.' },
  'max-steps': { type: 'string', value: 'N', help: 'Step limit per rollout (default 100).' },
  'max-cost': { type: 'string', value: 'USD', help: 'Cost limit per rollout (default 10).' },
  'batch-cost': { type: 'string', value: 'USD', help: 'Cost limit for the whole batch.' },
  'max-tokens': { type: 'string', value: 'N', help: 'Token limit per rollout, prompt plus completion (default none).' },
  'max-new-tokens': { type: 'string', value: 'N', help: 'New tokens per model call (default 16384); small models on a laptop ramble without it.' },
  'batch-tokens': { type: 'string', value: 'N', help: 'Token limit for the whole batch.' },
  'time-limit': { type: 'string', value: 'SECONDS', help: 'Wall time limit per rollout (default 3600).' },
  'tool-timeout': { type: 'string', value: 'SECONDS', help: 'Timeout of one command (default 90).' },
  'request-timeout': { type: 'string', value: 'SECONDS', help: `How long a model call may wait for the server to start answering, retries included (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000}).` },
  'stream-idle-timeout': { type: 'string', value: 'SECONDS', help: `Longest silence in the middle of a streamed answer (default ${DEFAULT_STREAM_IDLE_TIMEOUT_MS / 1000}); a slow server that keeps sending goes on.` },
  'price-in': { type: 'string', value: 'USD', help: 'Price per million prompt tokens, for cost accounting (default 0).' },
  'price-out': { type: 'string', value: 'USD', help: 'Price per million completion tokens (default 0).' },
  out: { type: 'string', value: 'DIR', help: 'Where trajectories, patches and result.json go (default: ~/.local/state/entropo/runs/<batch>).' },
  ...VERIFY_FLAGS,
  'no-local': { type: 'boolean', help: 'Do not score candidates with the bundled local verifier.' },
  ...CONTAINMENT_FLAGS,
  store: { type: 'string', value: 'DIR', help: 'Preference store (default: ~/.local/state/entropo/store/<repo hash>).' },
  'no-record': { type: 'boolean', help: 'Do not record this run as preference data.' },
  json: { type: 'boolean', help: 'Print the result as JSON on stdout instead of the table.' },
} as const;

/** `entropo run`: one best-of-N batch on an issue. */
export async function runCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, USAGE, FLAGS);
  if (!flags) return 0;
  const repoDir = path.resolve(String(flags.repo ?? '.'));
  if (!existsSync(repoDir) || !statSync(repoDir).isDirectory()) throw new UsageError(`--repo ${repoDir} is not a directory.`);
  const issue = readIssue(flags.issue);
  const source = modelSource(flags);
  const format = (flags.format as 'tools' | 'text' | undefined) ?? (source.kind === 'scripts' ? 'text' : 'tools');
  const config = resolveConfig({
    format,
    limits: {
      maxSteps: numberFlag(flags['max-steps'], 'max-steps', undefined, 1),
      maxCostUsd: numberFlag(flags['max-cost'], 'max-cost', undefined, 0),
      maxTotalTokens: numberFlag(flags['max-tokens'], 'max-tokens', undefined, 1),
      maxNewTokens: numberFlag(flags['max-new-tokens'], 'max-new-tokens', undefined, 1),
      wallTimeMs: seconds(numberFlag(flags['time-limit'], 'time-limit', undefined, 1)),
      toolTimeoutMs: seconds(numberFlag(flags['tool-timeout'], 'tool-timeout', undefined, 1)),
    },
    sampling: {
      temperature: numberFlag(flags.temperature, 'temperature', undefined, 0, 2),
      topP: numberFlag(flags['top-p'], 'top-p', undefined, 0, 1),
      extra: parseExtra(flags.extra),
    },
  });
  const samples = numberFlag(flags.samples, 'samples', 4, 1, MAX_SAMPLES)!;
  const outDir = path.resolve(String(flags.out ?? path.join(homedir(), '.local', 'state', 'entropo', 'runs', new Date().toISOString().replace(/[:.]/g, '-'))));
  const events = new Emitter<FixEvent>();
  events.subscribe(progressPrinter(process.stderr));
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('entropo: cancelling; cleaning up worktrees (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const apiKey = source.kind === 'endpoint' ? source.apiKey : undefined;
  const storeDir = path.resolve(String(flags.store ?? defaultStoreDir(repoDir)));
  try {
    const report = await fixIssue({
      repoDir, issue, samples, config, outDir, events, signal: controller.signal,
      concurrency: numberFlag(flags.concurrency, 'concurrency', undefined, 1),
      seed: numberFlag(flags.seed, 'seed', undefined, 0),
      model: await createModelFactory(source),
      containment: containmentFromFlags(flags, { paths: [storeDir, outDir], secrets: apiKey ? [apiKey] : [] }),
      tests: testOptionsFromFlags(flags),
      budget: { costUsd: numberFlag(flags['batch-cost'], 'batch-cost', undefined, 0), tokens: numberFlag(flags['batch-tokens'], 'batch-tokens', undefined, 1) },
      verify: { judge: judgeFromFlags(flags, apiKey), local: flags['no-local'] ? undefined : localVerifierProvider(issue, { modelPath: localModelFromFlags(flags) }) },
      selector: selectorFromFlags(flags),
      store: PreferenceStore.open(storeDir, { enabled: !flags['no-record'], secrets: apiKey ? [apiKey] : [], repoRoot: repoDir }),
    });
    const { batch } = report;
    await mkdir(path.join(outDir, 'patches'), { recursive: true });
    await Promise.all(batch.candidates.map((c) => writeFile(path.join(outDir, 'patches', `${c.id}.patch`), c.patch)));
    const summary = { ...report, batch: { ...batch, candidates: batch.candidates.map(({ messages: _messages, ...rest }) => rest) } };
    await writeFile(path.join(outDir, 'result.json'), `${JSON.stringify(summary, null, 2)}\n`);
    // The patches are on disk; the snapshot commit need not be kept alive any longer.
    await releaseSnapshot(batch.snapshot);
    process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : renderCandidates(report, repoDir, outDir, flags['no-record'] ? undefined : storeDir));
    // The last line on stderr is what happened, whatever the progress lines before it said.
    process.stderr.write(`entropo: ${report.outcome.kind}: ${report.outcome.summary}\n`);
    if (controller.signal.aborted) return EXIT.cancelled;
    return outcomeExitCode(report.outcome.kind);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function readIssue(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError('--issue is required: a file or the issue text.');
  const text = existsSync(value) && statSync(value).isFile() ? readFileSync(value, 'utf8') : value;
  if (text.trim() === '') throw new UsageError(`The issue ${value} is empty.`);
  return text;
}

function modelSource(flags: Record<string, unknown>): ModelSource {
  const scripts = (flags.script as string[] | undefined) ?? [];
  if (scripts.length > 0) {
    if (flags['base-url']) throw new UsageError('Give either --script or --base-url, not both.');
    return { kind: 'scripts', files: scripts.map((s) => path.resolve(s)) };
  }
  if (!flags['base-url'] || !flags.model) {
    throw new UsageError('Give --base-url and --model for a live model (or --script FILE to replay a recorded one).');
  }
  const inPrice = numberFlag(flags['price-in'], 'price-in', 0, 0)!;
  const outPrice = numberFlag(flags['price-out'], 'price-out', 0, 0)!;
  return {
    kind: 'endpoint', baseUrl: String(flags['base-url']), model: String(flags.model),
    apiKey: process.env.ENTROPO_API_KEY ?? process.env.OPENAI_API_KEY,
    requestTimeoutMs: seconds(numberFlag(flags['request-timeout'], 'request-timeout', undefined, 0.001)),
    streamIdleTimeoutMs: seconds(numberFlag(flags['stream-idle-timeout'], 'stream-idle-timeout', undefined, 0.001)),
    pricing: { inputPerMTok: inPrice, outputPerMTok: outPrice },
  };
}

function parseExtra(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(String(value));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new UsageError(`--extra must be a JSON object, got ${String(value)}.`);
}

function seconds(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 1000);
}
