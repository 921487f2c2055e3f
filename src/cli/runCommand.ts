import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { isAbort } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import { fixIssue, type FixEvent } from '../core/pipeline/fixIssue.js';
import { CONTAINMENT_SETTINGS, LIMIT_SETTINGS, MODEL_SETTINGS, RECORD_SETTINGS, SAMPLING_SETTINGS, VERIFY_SETTINGS } from '../core/settings/settings.js';
import { defaultStoreDir } from '../core/store/storeLocation.js';
import { releaseSnapshot } from '../core/worktree/snapshot.js';
import { renderCandidates } from './candidateTable.js';
import { EXIT, outcomeExitCode } from './exitCodes.js';
import { parseFlags } from './options.js';
import { progressPrinter } from './progress.js';
import { cancelOnSigint } from './sigint.js';
import { offered, settingFlags, settingsFromFlags } from './settingFlags.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo run --issue FILE|TEXT (--base-url URL --model NAME | --script FILE...) [options]

Runs the agent N times in parallel, each rollout in its own git worktree of a snapshot of the repository
(your working tree is never changed), verifies and ranks the candidate patches, and records the run as
preference data. The API key is read from the
ENTROPO_API_KEY environment variable (or OPENAI_API_KEY), never from a flag.`;

/** The settings `run` offers as flags: all but the trainer's. */
const RUN_SETTINGS = offered(MODEL_SETTINGS, SAMPLING_SETTINGS, LIMIT_SETTINGS, VERIFY_SETTINGS, CONTAINMENT_SETTINGS, RECORD_SETTINGS);

const FLAGS = {
  repo: { type: 'string', value: 'DIR', help: 'Repository to work on (default: the current directory).' },
  issue: { type: 'string', value: 'FILE|TEXT', help: 'The issue: a file to read, or the text itself.' },
  script: { type: 'string', multiple: true, value: 'FILE', help: 'Replay a recorded model script instead of calling a model (then the text action format unless --format says otherwise); repeat to give rollouts different scripts (round-robin).' },
  out: { type: 'string', value: 'DIR', help: 'Where trajectories, patches and result.json go (default: ~/.local/state/entropo/runs/<batch>).' },
  json: { type: 'boolean', help: 'Print the result as JSON on stdout instead of the table.' },
  ...settingFlags(RUN_SETTINGS),
} as const;

/** `entropo run`: one best-of-N batch on an issue. */
export async function runCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, USAGE, FLAGS);
  if (!flags) return 0;
  const repoDir = path.resolve(String(flags.repo ?? '.'));
  if (!existsSync(repoDir) || !statSync(repoDir).isDirectory()) throw new UsageError(`--repo ${repoDir} is not a directory.`);
  const issue = readIssue(flags.issue);
  const scripts = ((flags.script as string[] | undefined) ?? []).map((s) => path.resolve(s));
  if (scripts.length > 0 && flags['base-url'] !== undefined) throw new UsageError('Give either --script or --base-url, not both.');
  if (scripts.length === 0 && String(flags.model ?? '').trim() === '') {
    throw new UsageError('Give --base-url and --model for a live model (or --script FILE to replay a recorded one).');
  }
  const unreadable = scripts.find((file) => !isReadableFile(file));
  if (unreadable !== undefined) throw new UsageError(`--script ${unreadable}: no such file, or it cannot be read.`);
  // Recorded scripts are in the text format unless told otherwise.
  const settings = settingsFromFlags(scripts.length > 0 && flags.format === undefined ? { ...flags, format: 'text' } : flags, RUN_SETTINGS);
  const outDir = path.resolve(String(flags.out ?? path.join(homedir(), '.local', 'state', 'entropo', 'runs', new Date().toISOString().replace(/[:.]/g, '-'))));
  const events = new Emitter<FixEvent>();
  events.subscribe(progressPrinter(process.stderr));
  const storeDir = settings.storeDirectory || defaultStoreDir(repoDir);
  // Before any rollout: a folder that cannot be made would otherwise fail the run at its end, its work lost.
  folderOrUsage('--out', outDir);
  freshOutOrUsage(outDir);
  folderOrUsage('--store', storeDir);
  const controller = new AbortController();
  const stopListening = cancelOnSigint(controller);
  try {
    const report = await fixIssue(settings, {
      repoDir, issue, outDir, storeDir, events, signal: controller.signal,
      apiKey: scripts.length > 0 ? undefined : process.env.ENTROPO_API_KEY ?? process.env.OPENAI_API_KEY,
      model: scripts.length > 0 ? { kind: 'scripts', files: scripts } : undefined,
      onWarning: (message) => process.stderr.write(`entropo: warning: ${message}\n`),
    });
    await mkdir(path.join(outDir, 'patches'), { recursive: true });
    await Promise.all(report.candidates.map((c) => writeFile(path.join(outDir, 'patches', `${c.id}.patch`), c.patch)));
    const summary = { ...report, candidates: report.candidates.map(({ messages: _messages, ...rest }) => rest), ...(report.taskId ? { storeDir } : {}) };
    await writeFile(path.join(outDir, 'result.json'), `${JSON.stringify(summary, null, 2)}\n`);
    // The patches are on disk; the snapshot commit need not be kept alive any longer.
    await releaseSnapshot(report.batch.snapshot);
    process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : renderCandidates(report, outDir, settings.recordDecisions ? storeDir : undefined));
    // The last line on stderr is what happened, whatever the progress lines before it said.
    process.stderr.write(`entropo: ${report.outcome.kind}: ${report.outcome.summary}\n`);
    if (controller.signal.aborted) return EXIT.cancelled;
    return outcomeExitCode(report.outcome.kind);
  } catch (error) {
    // Cancelled while the run was set up (the snapshot, the shared checkout): nothing ran, nothing to write.
    if (!controller.signal.aborted || !isAbort(error)) throw error;
    process.stderr.write('entropo: cancelled while the run was being prepared: no rollout ran, nothing was recorded\n');
    return EXIT.cancelled;
  } finally {
    stopListening();
  }
}

/**
 * Throws a usage error when `dir` cannot be a folder of ours: it, or the nearest of its parents that exists,
 * is a file or cannot be written.
 */
function folderOrUsage(flag: string, dir: string): void {
  let at = dir;
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  if (existsSync(at) && !statSync(at).isDirectory()) throw new UsageError(`${flag} ${dir}: ${at === dir ? 'it' : at} is a file, not a folder.`);
  try {
    accessSync(at, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${dir}: ${at === dir ? 'it' : at} cannot be written.`);
  }
}

/** Throws a usage error when `dir` holds the results of an earlier run, which this run's would mix with. */
function freshOutOrUsage(dir: string): void {
  if (!existsSync(dir)) return;
  const earlier = readdirSync(dir).filter((name) => name === 'result.json' || name === 'patches' || name.endsWith('.trajectory.jsonl')).sort();
  if (earlier.length > 0) {
    throw new UsageError(`--out ${dir} holds the results of an earlier run (${earlier.slice(0, 3).join(', ')}${earlier.length > 3 ? ', ...' : ''}); give a new folder, or remove it first.`);
  }
}

function isReadableFile(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

// One word with a path separator or a file extension: meant as a file, never as the issue's text.
const LOOKS_LIKE_A_PATH = /^\S*(\/|\.(md|markdown|txt|rst)$)\S*$/i;

function readIssue(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError('--issue is required: a file or the issue text.');
  if (value === '-') throw new UsageError('--issue - (standard input) is not read: give the issue\'s file, or its text in quotes.');
  if (existsSync(value) && statSync(value).isDirectory()) throw new UsageError(`--issue ${value} is a folder; give the issue's file or its text.`);
  if (!existsSync(value) && LOOKS_LIKE_A_PATH.test(value.trim())) {
    throw new UsageError(`--issue ${value}: no such file. Give the issue's file, or its text (in quotes, with spaces).`);
  }
  const text = existsSync(value) && statSync(value).isFile() ? readFileSync(value, 'utf8') : value;
  if (text.trim() === '') throw new UsageError(`The issue ${value} is empty.`);
  if (text.includes('\0')) throw new UsageError(`--issue ${value} is a binary file, not an issue's text.`);
  return text;
}
