/**
 * The append-only preference store of one workspace: task records (every trajectory, patch and signal of a
 * best-of-N batch) and decision records (what the user did with a candidate), one JSON line each, in monthly
 * segment files `records-YYYY-MM.jsonl`. Monthly segments keep every file to a size that editors and `jq`
 * handle, let a user archive or drop old months without rewriting anything, and confine a torn tail to the
 * month it happened in; readers simply read all segments in name order.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { appendRecord } from './appendRecord.js';
import { boundTask, type StoreBounds } from './boundTask.js';
import { recordChecksum } from './checksum.js';
import { acquireLock, type LockOptions } from './fileLock.js';
import { Redactor } from './redact.js';
import { scanStore, SEGMENT_PATTERN, type RecordLocation, type ScanResult } from './scanStore.js';
import { dotEnvSecrets, environmentSecrets } from './secretSources.js';
import type { WeakLabelOptions } from './labels.js';
import { storeStats, type StoreStats } from './storeStats.js';
import { DECISION_KINDS, STORE_FORMAT, type DecisionInput, type DecisionRecord, type ReadResult, type StoreRecord, type TaskInput, type TaskRecord } from './storeTypes.js';

/** Options of `PreferenceStore.open`. */
export interface PreferenceStoreOptions {
  /** When false every write is a no-op that touches nothing on disk, not even the folder; default true. */
  enabled?: boolean;
  /** fdatasync every record; default true. Off only for benchmarks and throwaway stores. */
  fsync?: boolean;
  /** Values that must never be written, whatever their shape: the configured API key, above all. */
  secrets?: string[];
  /** The environment whose secret-named variables are redacted; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The repository whose `.env` files are read for values to redact; default: none. */
  repoRoot?: string;
  lock?: LockOptions;
  /** How long one stored message and one record may be; see boundTask. */
  bounds?: StoreBounds;
}

/** The name of the lock file inside the store folder. */
export const LOCK_FILE = 'store.lock';

// Owner files a lock taker writes before linking them into place; a killed taker may leave one behind.
const LOCK_TEMP_PATTERN = /^store\.lock\.\d+\.[0-9a-f]+\.tmp$/;

/** An append-only store of tasks and decisions; see the module comment for the layout. */
export class PreferenceStore {
  readonly enabled: boolean;
  // Appends of this process run one at a time, so they never contend for the lock file with each other.
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string, private readonly options: PreferenceStoreOptions) {
    this.enabled = options.enabled ?? true;
  }

  /** A store in `dir`; nothing is created until the first write. */
  static open(dir: string, options: PreferenceStoreOptions = {}): PreferenceStore {
    return new PreferenceStore(path.resolve(dir), options);
  }

  /**
   * Records a task, redacted; returns its id (also when recording is off, so callers need no special case).
   * `repoRoot` names a repository whose .env values are redacted, on top of the store's own.
   */
  async appendTask(input: TaskInput, options: { repoRoot?: string } = {}): Promise<string> {
    validateTask(input);
    const id = newId('task');
    if (!this.enabled) return id;
    // Clipped after redaction, so that a clip never cuts a secret in two and leaves half of it unrecognised.
    const redacted = boundTask(redactTask(input, await this.redactor(options.repoRoot)), this.options.bounds);
    await this.append({ format: STORE_FORMAT, kind: 'task', id, timestamp: new Date().toISOString(), checksum: '', ...redacted });
    return id;
  }

  /** Records a decision about one candidate of a recorded task; returns its id. */
  async appendDecision(input: DecisionInput): Promise<string> {
    if (!(DECISION_KINDS as readonly string[]).includes(input.decision)) {
      throw new AgentError(ErrorReason.InvalidArgument, `A decision is one of ${DECISION_KINDS.join(', ')}, not "${String(input.decision)}".`);
    }
    if (!input.taskId || !input.candidateId) throw new AgentError(ErrorReason.InvalidArgument, 'A decision needs a task id and a candidate id.');
    if ((input.decision === 'replaced') !== (typeof input.by === 'string' && input.by !== '')) {
      throw new AgentError(ErrorReason.InvalidArgument, 'A replaced decision, and only that one, names the candidate applied in its place (by).');
    }
    const id = newId('decision');
    if (!this.enabled) return id;
    const { taskId, candidateId, decision, by } = input;
    const note = input.note === undefined ? undefined : (await this.redactor()).redactString(input.note);
    await this.append({ format: STORE_FORMAT, kind: 'decision', id, timestamp: new Date().toISOString(), checksum: '',
      taskId, candidateId, decision, ...(by === undefined ? {} : { by }), ...(note === undefined ? {} : { note }) });
    return id;
  }

  /** Every accepted record, with the count of torn lines and every line refused and why. */
  async readAll(): Promise<ReadResult> {
    const tasks: TaskRecord[] = [];
    const decisions: DecisionRecord[] = [];
    const { torn, skipped } = await this.scan((record) => {
      if (record.kind === 'task') tasks.push(record);
      else decisions.push(record);
    });
    return { tasks, decisions, torn, skipped };
  }

  /** Streams every accepted record to `visit` in file order, holding one line in memory at a time. */
  scan(visit: (record: StoreRecord, at: RecordLocation) => void): Promise<ScanResult> {
    return scanStore(this.dir, visit);
  }

  /** Counts of tasks, candidates, decisions, exportable lines and refused lines. */
  stats(weakLabels?: WeakLabelOptions): Promise<StoreStats> {
    return storeStats(this, weakLabels);
  }

  /**
   * Deletes everything this store recorded: its segment files and lock, then the folder if nothing else is
   * in it. Only our own files are removed, so a mistyped `--store ~` cannot delete anything else.
   */
  async deleteAll(): Promise<{ files: number }> {
    if (!existsSync(this.dir)) return { files: 0 };
    const release = await acquireLock(path.join(this.dir, LOCK_FILE), this.options.lock);
    let files = 0;
    try {
      // Listed under the lock, so a segment another window is creating right now is either listed or waits.
      for (const name of (await readdir(this.dir)).filter((n) => SEGMENT_PATTERN.test(n) || LOCK_TEMP_PATTERN.test(n))) {
        await unlink(path.join(this.dir, name));
        files += 1;
      }
    } finally {
      await release();
    }
    try {
      await rmdir(this.dir);
    } catch {
      // Not empty (the user keeps other files there, or another window just wrote): leave the folder.
    }
    return { files };
  }

  private async redactor(extraRoot?: string): Promise<Redactor> {
    const roots = [...new Set([this.options.repoRoot, extraRoot].filter((r): r is string => r !== undefined))];
    const secrets = [
      ...(this.options.secrets ?? []).map((value) => ({ value, kind: 'api-key' })),
      ...environmentSecrets(this.options.env ?? process.env),
      ...(await Promise.all(roots.map(dotEnvSecrets))).flat(),
    ];
    return new Redactor(secrets);
  }

  private append(record: StoreRecord): Promise<void> {
    record.checksum = recordChecksum(record);
    const line = `${JSON.stringify(record)}\n`;
    const run = this.tail.then(async () => {
      await mkdir(this.dir, { recursive: true });
      const release = await acquireLock(path.join(this.dir, LOCK_FILE), this.options.lock);
      try {
        await appendRecord(path.join(this.dir, segmentName(new Date())), line, { fsync: this.options.fsync });
      } finally {
        await release();
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** The segment a record written at `date` goes to, by UTC month. */
export function segmentName(date: Date): string {
  return `records-${date.toISOString().slice(0, 7)}.jsonl`;
}

function newId(kind: 'task' | 'decision'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${kind}-${stamp}-${randomBytes(4).toString('hex')}`;
}

/**
 * Redacts a task but keeps the identifiers the engine made (batch id, commits, candidate ids): they hold no
 * secret, a random-looking one would otherwise be redacted as high-entropy, and decisions must match them.
 */
function redactTask(input: TaskInput, redactor: Redactor): TaskInput {
  const redacted = redactor.redactDeep(input);
  const candidates = redacted.candidates.map((c, k) => ({ ...c, id: input.candidates[k].id }));
  const ranking = input.ranking && {
    ...redactor.redactDeep(input.ranking),
    order: input.ranking.order,
    explanations: Object.fromEntries(Object.entries(input.ranking.explanations).map(([id, text]) => [id, redactor.redactString(text)])),
  };
  return { ...redacted, batchId: input.batchId, snapshot: input.snapshot, repo: { ...redacted.repo, head: input.repo.head },
    candidates, ...(ranking ? { ranking } : {}) };
}

function validateTask(input: TaskInput): void {
  if (typeof input.issue !== 'string' || !Array.isArray(input.candidates)) {
    throw new AgentError(ErrorReason.InvalidArgument, 'A task needs the issue text and a list of candidates.');
  }
  const ids = input.candidates.map((c) => c.id);
  if (new Set(ids).size !== ids.length) {
    throw new AgentError(ErrorReason.InvalidArgument, `Candidate ids of a task must be distinct, got ${ids.join(', ')}.`);
  }
}
