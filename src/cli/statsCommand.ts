import { DECISION_KINDS } from '../core/store/storeTypes.js';
import { PreferenceStore } from '../core/store/preferenceStore.js';
import { totalDecisions, type StoreStats } from '../core/store/storeStats.js';
import { numberFlag, parseFlags } from './options.js';
import { missingStore, storeDirFromFlags } from './storeFlag.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo stats [--store DIR | --repo DIR] [--json] [--weak-labels T]
       entropo stats [--store DIR | --repo DIR] --delete-all --yes

Counts what the preference store holds: tasks, candidates, decisions, what \`entropo export\` would write,
and lines it had to skip (torn by a crash, or altered). --delete-all --yes deletes everything recorded for
the repository (only the store's own files; the folder goes too when nothing else is in it).`;

const FLAGS = {
  store: { type: 'string', value: 'DIR', help: 'Preference store (default: ~/.local/state/entropo/store/<repo hash>).' },
  repo: { type: 'string', value: 'DIR', help: 'Repository whose default store to read (default: the current directory).' },
  json: { type: 'boolean', help: 'Print the counts as JSON.' },
  'weak-labels': { type: 'string', value: 'T', help: 'Count exportable lines as `export --weak-labels T` would.' },
  'delete-all': { type: 'boolean', help: 'Delete every record of this store (needs --yes).' },
  yes: { type: 'boolean', help: 'Confirm --delete-all.' },
} as const;

type Io = { out: NodeJS.WritableStream; err: NodeJS.WritableStream };

/** `entropo stats`: counts of the preference store, or `--delete-all --yes` to erase it. */
export async function statsCommand(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const flags = parseFlags(argv, USAGE, FLAGS);
  if (!flags) return 0;
  const weak = numberFlag(flags['weak-labels'], 'weak-labels', undefined, 0.5, 1);
  if (weak === 0.5) throw new UsageError('--weak-labels must be above 0.5.');
  const store = PreferenceStore.open(storeDirFromFlags(flags));
  const stats = await store.stats(weak === undefined ? undefined : { minConfidence: weak });
  if (flags['delete-all']) {
    if (!flags.yes) {
      throw new UsageError(`--delete-all would delete ${stats.tasks} task(s) and ${totalDecisions(stats.decisions)} decision(s) in ${store.dir}; add --yes to confirm.`);
    }
    const { files } = await store.deleteAll();
    io.out.write(flags.json ? `${JSON.stringify({ deleted: { tasks: stats.tasks, decisions: totalDecisions(stats.decisions), files }, dir: store.dir })}\n`
      : `Deleted ${stats.tasks} task(s) and ${totalDecisions(stats.decisions)} decision(s) (${files} file(s)) from ${store.dir}\n`);
    return 0;
  }
  const missing = missingStore(store.dir);
  io.out.write(flags.json ? `${JSON.stringify(stats)}\n` : missing ? `${missing[0].toUpperCase()}${missing.slice(1)}.\n` : render(stats));
  return 0;
}

function render(s: StoreStats): string {
  const rows: [string, string][] = [
    ['tasks', String(s.tasks)],
    ['candidates', String(s.candidates)],
    ['decisions', `${totalDecisions(s.decisions)} (${DECISION_KINDS.filter((k) => s.decisions[k] > 0).map((k) => `${k} ${s.decisions[k]}`).join(', ') || 'none'})`],
    ['accepted / rejected', `${s.accepted} / ${s.rejected}`],
    ['exportable', `${s.exportable.dpoPairs} DPO pairs, ${s.exportable.ktoExamples} KTO examples`
      + (s.exportable.weakKtoExamples > 0 ? ` (weak: ${s.exportable.weakDpoPairs} pairs, ${s.exportable.weakKtoExamples} examples)` : '')],
    ['skipped lines', `${s.skipped.length} (${s.torn} torn by a crash)`],
  ];
  const { cancelled, failed } = s.excludedTasks;
  const stopped = s.excludedCandidates > 0 ? `${s.excludedCandidates} candidate(s) whose rollout was stopped from outside (a failure, a cancel, the batch budget)` : '';
  const runs = cancelled + failed > 0 ? `${cancelled} cancelled and ${failed} failed run(s)` : '';
  if (runs || stopped) rows.push(['not for training', [runs, stopped].filter(Boolean).join('; ')]);
  if (s.orphanDecisions > 0) rows.push(['orphan decisions', String(s.orphanDecisions)]);
  const lines = rows.map(([k, v]) => `  ${k.padEnd(20)} ${v}`);
  const skipped = s.skipped.slice(0, 20).map((l) => `  ${l.file}:${l.line} ${l.reason}: ${l.excerpt}`);
  return `Preference store ${s.dir}\n${lines.join('\n')}\n${skipped.length > 0 ? `Skipped lines:\n${skipped.join('\n')}\n` : ''}`;
}
