import { existsSync, statSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isAbort } from '../core/errors.js';
import { rankInstances, type RankOptions, type RankRecord } from '../core/pipeline/rankInstances.js';
import { CONTAINMENT_SETTINGS, VERIFY_SETTINGS } from '../core/settings/settings.js';
import { EXIT } from './exitCodes.js';
import { numberFlag, parseFlags } from './options.js';
import { offered, settingFlags, settingsFromFlags } from './settingFlags.js';
import { signalsFromFlags } from './signalsFlag.js';
import { readRankInput } from './rankInput.js';
import { cancelOnSigint } from './sigint.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo rank --candidates FILE.jsonl [--out FILE] [--repo-dir DIR] [options]

Ranks externally produced candidates. Each input line is {instance_id, problem_statement, base_commit?,
test_command?, candidates: [{id, patch, trajectory?}]}, where a trajectory is a list of OpenAI chat messages.
Writes one line per instance as soon as it is done (so in the order instances finish): the ranked ids, every
signal per candidate, and one line of explanation per candidate; or, for an instance that could not be
ranked, {instance_id, status: "error", reason, error}. Static signals need no checkout; with --repo-dir (a
checkout of the repository; base_commit, or HEAD, is the snapshot) the apply, syntax, regression and
reproduction checks run too, the tests contained like the agent's commands of \`entropo run\`.
Exit code: 0 when every instance was ranked, 1 when any instance failed (its record says why) or on an
error, 2 for a wrong command line, 130 when Ctrl-C stopped it (the instances finished by then are written).`;

/** The settings `rank` offers as flags: verification and containment. */
const RANK_SETTINGS = offered(VERIFY_SETTINGS, CONTAINMENT_SETTINGS);

const FLAGS = {
  candidates: { type: 'string', value: 'FILE', help: 'Input JSON lines.' },
  out: { type: 'string', value: 'FILE', help: 'Output JSON lines, written as instances finish (default: stdout).' },
  'repo-dir': { type: 'string', value: 'DIR', help: 'A checkout of the repository; base_commit (or HEAD) is the snapshot.' },
  signals: { type: 'string', value: 'LIST', help: 'Comma-separated signals to keep (default: all that can run).' },
  concurrency: { type: 'string', value: 'K', help: 'Instances verified at once (default 1); test runs are limited by --test-concurrency.' },
  ...settingFlags(RANK_SETTINGS),
} as const;

/** `entropo rank`: ranks candidates given as JSON lines. */
export async function rankCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, USAGE, FLAGS);
  if (!flags) return 0;
  if (!flags.candidates) throw new UsageError('--candidates FILE is required.');
  if (!existsSync(String(flags.candidates))) throw new UsageError(`--candidates ${String(flags.candidates)} does not exist.`);
  if (!statSync(String(flags.candidates)).isFile()) throw new UsageError(`--candidates ${String(flags.candidates)} is a folder, not a JSON lines file.`);
  const repoDir = flags['repo-dir'] ? path.resolve(String(flags['repo-dir'])) : undefined;
  if (repoDir && (!existsSync(repoDir) || !statSync(repoDir).isDirectory())) {
    throw new UsageError(`--repo-dir ${repoDir} does not exist or is not a folder; give a checkout of the repository.`);
  }
  const keep = signalsFromFlags(flags);
  const settings = settingsFromFlags(flags, RANK_SETTINGS);
  const out = flags.out ? path.resolve(String(flags.out)) : undefined;
  const controller = new AbortController();
  const options: RankOptions = {
    signal: controller.signal,
    settings, keep, repoDir,
    concurrency: numberFlag(flags.concurrency, 'concurrency', 1, 1, 64), hiddenPaths: out ? [out] : [],
    apiKey: process.env.ENTROPO_API_KEY ?? process.env.OPENAI_API_KEY,
    onWarning: (message) => process.stderr.write(`entropo: warning: ${message}\n`),
  };
  if (out && existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder; give the file to write.`);
  // --out is replaced only once there is something to put in it: a mistake found before the first record
  // (a --repo-dir that is no checkout, a cancel) leaves the results of an earlier run as they were.
  if (out) await mkdir(path.dirname(out), { recursive: true });
  let started = false;
  const toOut = (line: string) => {
    const first = !started;
    started = true;
    return first ? writeFile(out!, line) : appendFile(out!, line);
  };
  // Ctrl-C stops the verifications and removes their workspaces; the issues finished by then are written.
  const stopListening = cancelOnSigint(controller);
  // Records are written one at a time, in the order instances finish, so a crash keeps every finished one.
  let writing = Promise.resolve();
  const done = { ranked: 0, failed: 0 };
  const onRecord = (record: RankRecord): Promise<void> => {
    done[record.status === 'ranked' ? 'ranked' : 'failed'] += 1;
    process.stderr.write(`entropo: ${describe(record, String(flags.candidates))}\n`);
    const line = `${JSON.stringify(record)}\n`;
    writing = writing.then(() => (out ? toOut(line) : new Promise<void>((resolve) => process.stdout.write(line, () => resolve()))));
    return writing;
  };
  try {
    const { failed } = await rankInstances(readRankInput(String(flags.candidates)), options, onRecord);
    await writing;
    if (out && !started) await toOut('');
    return failed > 0 ? EXIT.error : EXIT.ok;
  } catch (error) {
    if (!controller.signal.aborted || !isAbort(error)) throw error;
    await writing;
    process.stderr.write(`entropo: cancelled: ${done.ranked} issue(s) ranked and ${done.failed} failed before the cancel, written${out ? ` to ${out}` : ''}; the rest not ranked\n`);
    return EXIT.cancelled;
  } finally {
    stopListening();
  }
}

function describe(record: RankRecord, input: string): string {
  const took = record.duration_ms === undefined ? '' : ` (${(record.duration_ms / 1000).toFixed(1)} s)`;
  if (record.status === 'ranked') return [`ranked ${record.instance_id}: ${record.ranking.join(' > ')}${took}`, ...(record.notes ?? []).map((n) => `  Note: ${n}`)].join('\n');
  const which = record.instance_id ?? `line ${record.line}`;
  // An input line's own fault is said with the file it is in, as an editor's location would be.
  const from = record.reason === 'invalid_input' ? `${input}: ` : '';
  return `could not rank ${which} (${record.reason}): ${from}${record.error}${took}`;
}
