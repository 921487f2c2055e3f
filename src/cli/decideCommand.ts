/**
 * `entropo apply` and `entropo reject`: the review panel's Apply (and Replace) and Reject on the command line,
 * recorded with the same meaning (core/store/decisions.ts), so that `run`, `export` and `train` make training
 * data without the editor.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../core/errors.js';
import { untrainableExit, untrainableRun } from '../core/store/decisions.js';
import { latestDecisions } from '../core/store/labels.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { defaultStoreDir } from '../core/store/storeLocation.js';
import type { DecisionKind, DecisionRecord, TaskStatus } from '../core/store/storeTypes.js';
import type { ExitReason } from '../core/types.js';
import { committedAsCandidate, holdsCandidate, takenBack } from '../core/worktree/candidateTree.js';
import { changedFiles } from '../core/worktree/patch.js';
import { locateRepository } from '../core/worktree/snapshot.js';
import { planSwitchOrGitApply, switchWithGitApply, writeSwitch, type SwitchRequest } from '../core/worktree/treeSwitch.js';
import { EXIT } from './exitCodes.js';
import { parseFlags } from './options.js';
import { UsageError } from './usageError.js';

const RUN_HELP = 'The run\'s --out folder (default: the latest run of the repository in the current folder, under ~/.local/state/entropo/runs).';
const FLAGS = {
  run: { type: 'string', value: 'DIR', help: RUN_HELP },
  store: { type: 'string', value: 'DIR', help: 'Preference store (default: the one the run recorded into).' },
} as const;

const APPLY_USAGE = `Usage: entropo apply ID [--run DIR]

Writes candidate ID of a run into the repository's working tree as an uncommitted change, and records it as
applied (accepted). A file it touches that changed since the run's snapshot stops it, writing nothing. When
another candidate of the run is applied, it is taken out first (Replace: recorded as replaced, which is no
rejection).`;

const REJECT_USAGE = `Usage: entropo reject ID... [--run DIR]

Records that each candidate is not acceptable (rejected). An applied one is taken out of the working tree
first; when its files changed since it was applied, the rejection is recorded and the change stays.`;

/** What of a run's result.json these commands read. */
interface SavedRun {
  candidates: { id: string; patch: string; exitReason?: ExitReason; batchBudget?: boolean }[];
  batch: { snapshot: { root: string; commit: string } };
  status?: TaskStatus;
  taskId?: string;
  storeDir?: string;
}

interface Decided {
  run: SavedRun;
  dir: string;
  store?: PreferenceStore;
  /** The candidate of the run now applied: by the latest decisions recorded, else the one the working tree holds. */
  applied?: string;
  /** True when `applied` was found in the working tree, not in the store (applied with git apply, or with recording off). */
  appliedByHand?: boolean;
}

/** `entropo apply ID`. */
export async function applyCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, APPLY_USAGE, FLAGS, true);
  if (!flags) return 0;
  const ids = flags._ as string[];
  if (ids.length !== 1) throw new UsageError('Give the one candidate to apply, e.g. `entropo apply r1`.');
  const decided = await load(flags, ids);
  const id = candidate(decided, ids[0]).id;
  const patch = candidate(decided, id).patch;
  if (patch.trim() === '') throw new UsageError(`${id} changes nothing: there is nothing to apply.`);
  if (decided.applied === id && !decided.appliedByHand) throw new UsageError(`${id} is already applied (\`entropo reject ${id}\` takes it out and rejects it).`);
  if (decided.applied === id) {
    const why = await record(decided, id, 'applied');
    process.stdout.write(`entropo: ${id} is in the working tree already (applied by hand); ${why ? `not recorded: ${why}` : `recorded as applied in task ${decided.run.taskId}`}.\n`);
    return EXIT.ok;
  }
  const current = decided.applied;
  await write(decided, { remove: current ? candidate(decided, current).patch : undefined, add: patch }, current);
  const said = current ? `replaced ${current} with ${id}` : `applied ${id}`;
  // One applied by hand was never recorded as applied: its replacement says nothing of it.
  const unrecorded = current && !decided.appliedByHand ? await record(decided, current, 'replaced', id) : undefined;
  const why = (await record(decided, id, 'applied')) ?? unrecorded;
  process.stdout.write(`entropo: ${said} in ${decided.run.batch.snapshot.root}, uncommitted; ${why ? `not recorded: ${why}` : `recorded in task ${decided.run.taskId}`}.\n`);
  return EXIT.ok;
}

/** `entropo reject ID...`. */
export async function rejectCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, REJECT_USAGE, FLAGS, true);
  if (!flags) return 0;
  const ids = flags._ as string[];
  if (ids.length === 0) throw new UsageError('Give the candidates to reject, e.g. `entropo reject r0 r2`.');
  const decided = await load(flags, ids);
  for (const given of ids) {
    const c = candidate(decided, given);
    const why = untrainableRun(decided.run.status) ?? untrainableExit(c);
    if (why && decided.applied !== c.id) throw new UsageError(`${c.id} is not for training: ${why}. There is nothing of the model's to reject.`);
  }
  for (const id of ids.map((given) => candidate(decided, given).id)) {
    let stays = '';
    if (decided.applied === id) {
      try {
        await write(decided, { remove: candidate(decided, id).patch }, id);
      } catch (error) {
        if (!(error instanceof AgentError) || error.reason !== ErrorReason.PatchDoesNotApply) throw error;
        stays = ` ${error.message}`;
      }
      decided.applied = undefined;
    }
    const unrecorded = await record(decided, id, 'rejected');
    process.stdout.write(`entropo: ${unrecorded ? `${id} is rejected, but not recorded: ${unrecorded}` : `recorded that ${id} is rejected`}.${stays}\n`);
  }
  return EXIT.ok;
}

async function load(flags: Record<string, unknown>, named: readonly string[]): Promise<Decided> {
  const dir = typeof flags.run === 'string' ? path.resolve(flags.run) : await latestRun();
  const file = path.join(dir, 'result.json');
  if (!existsSync(file)) throw new UsageError(`--run ${dir} holds no result.json: give the --out folder of an \`entropo run\`.`);
  let run: SavedRun;
  try {
    run = JSON.parse(readFileSync(file, 'utf8')) as SavedRun;
  } catch (error) {
    throw new UsageError(`${file} is not a run's result: ${(error as Error).message}`);
  }
  if (!Array.isArray(run.candidates) || !run.batch?.snapshot?.commit) throw new UsageError(`${file} is not a run's result (no candidates or snapshot).`);
  const storeDir = typeof flags.store === 'string' ? path.resolve(flags.store) : run.storeDir ?? defaultStoreDir(run.batch.snapshot.root);
  const store = run.taskId && existsSync(storeDir) ? PreferenceStore.open(storeDir) : undefined;
  const decisions: DecisionRecord[] = [];
  if (store) await store.scan((record) => { if (record.kind === 'decision' && record.taskId === run.taskId) decisions.push(record); });
  const latest = latestDecisions(decisions).get(run.taskId ?? '');
  const decided: Decided = { run, dir, store, applied: [...(latest ?? [])].find(([, decision]) => decision === 'applied')?.[0] };
  await settle(decided);
  if (decided.applied === undefined) {
    decided.applied = await heldCandidate(run, named);
    decided.appliedByHand = decided.applied !== undefined;
  }
  return decided;
}

// The candidate whose change the working tree holds, uncommitted, when the store names none: applied with
// `git apply` (as the run's report suggests), or with recording off, so that Replace and Reject still take it
// out. A committed one is the user's history, never taken out. Of several, the one that covers the most files
// (another may hold a part of it), and of equals the one the command names (twins: the same change).
async function heldCandidate(run: SavedRun, named: readonly string[]): Promise<string | undefined> {
  const { root, commit } = run.batch.snapshot;
  const held: { id: string; files: number }[] = [];
  for (const c of run.candidates) {
    if (c.patch.trim() !== '' && await holdsCandidate(root, commit, c.patch) && !(await committedAsCandidate(root, commit, c.patch))) {
      held.push({ id: c.id, files: changedFiles(c.patch).length });
    }
  }
  const most = Math.max(0, ...held.map((h) => h.files));
  const widest = held.filter((h) => h.files === most);
  return (widest.find((h) => named.includes(h.id)) ?? widest[0])?.id;
}

// What became of the applied candidate since it was applied, recorded as the panel's watcher records it: a
// commit that holds it is an acceptance (kept); taken back by hand (a discard, a stash) is no rejection (reverted).
async function settle(decided: Decided): Promise<void> {
  const id = decided.applied;
  if (id === undefined) return;
  const { root, commit } = decided.run.batch.snapshot;
  const patch = candidate(decided, id).patch;
  const what = await committedAsCandidate(root, commit, patch) ? 'kept' : await takenBack(root, commit, patch) ? 'reverted' : undefined;
  if (!what) return;
  decided.applied = undefined;
  const unrecorded = await record(decided, id, what);
  const happened = what === 'kept' ? 'was committed' : 'was taken back since it was applied';
  process.stdout.write(`entropo: ${id} ${happened}; ${unrecorded ? `not recorded: ${unrecorded}` : `recorded as ${what}`}.\n`);
}

// The newest run folder whose snapshot is of the repository in the current folder.
async function latestRun(): Promise<string> {
  const { root } = await locateRepository(process.cwd());
  const runs = path.join(homedir(), '.local', 'state', 'entropo', 'runs');
  const names = existsSync(runs) ? readdirSync(runs).sort().reverse() : [];
  for (const name of names) {
    const file = path.join(runs, name, 'result.json');
    if (!existsSync(file) || !statSync(file).isFile()) continue;
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as SavedRun).batch?.snapshot?.root === root) return path.join(runs, name);
    } catch {
      // Not a run's result: skipped.
    }
  }
  throw new UsageError(`No run of ${root} under ${runs}: give --run DIR, the --out folder of the run.`);
}

function candidate(decided: Decided, id: string): SavedRun['candidates'][number] {
  const found = decided.run.candidates.find((c) => c.id === id);
  if (!found) throw new UsageError(`The run in ${decided.dir} has no candidate ${id}; its candidates are ${decided.run.candidates.map((c) => c.id).join(', ')}.`);
  return found;
}

// The switch as the panel plans it, written on disk; a binary file, a mode change or a link goes through git.
async function write(decided: Decided, request: SwitchRequest, applied?: string): Promise<void> {
  const { root, commit } = decided.run.batch.snapshot;
  const plan = await planSwitchOrGitApply(root, commit, request);
  if (plan) await writeSwitch(root, plan, applied);
  else await switchWithGitApply(root, commit, request, applied, (message) => process.stderr.write(`entropo: warning: ${message}\n`));
}

// Resolves with why the store does not get the decision, when it does not.
async function record(decided: Decided, candidateId: string, decision: DecisionKind, by?: string): Promise<string | undefined> {
  if (!decided.run.taskId) return 'the run was not recorded (--no-record, or its store could not be written)';
  if (!decided.store) return `its preference store is gone (${decided.run.storeDir ?? 'the repository\'s default store'})`;
  await decided.store.appendDecision({ taskId: decided.run.taskId, candidateId, decision, ...(by ? { by } : {}), note: 'entropo CLI' });
  if (decision === 'applied') decided.applied = candidateId;
  return undefined;
}
