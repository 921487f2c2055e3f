/** Record types of the preference store: what a task and a decision look like on disk, version 1. */
import type { AgentConfig } from '../agent/config.js';
import type { Candidate } from '../sampling/batchTypes.js';
import type { Ranking, SignalName, SignalValue } from '../verify/signalTypes.js';
import type { Diversity } from '../worktree/diversity.js';
import type { ToolSpec, Usage } from '../types.js';

/** The format tag of every record; a reader accepts any minor version of major 1 and skips other majors. */
export const STORE_FORMAT = 'entropo-store-1.0';

/** Where the task's code came from: enough to find the repository and the commit again, nothing local. */
export interface RepoIdentity {
  /** `origin`'s URL (credentials in it are redacted like any secret), or null without a remote. */
  remoteUrl: string | null;
  /** The commit HEAD pointed to when the batch started, or null in a repository without commits. */
  head: string | null;
  /** The folder name of the repository, for people reading the store. */
  name?: string;
}

/**
 * One rollout as recorded: the batch's candidate (its patch, its whole conversation in the engine's Message
 * shape, how it ended) without the local trajectory file, plus every verifier signal.
 */
export type StoredCandidate = Omit<Candidate, 'trajectoryFile'> & {
  signals: Partial<Record<SignalName, SignalValue>>;
};

/** What a caller gives to record one task; ids, timestamps, format and checksum are added by the store. */
export interface TaskInput {
  issue: string;
  repo: RepoIdentity;
  /** The snapshot commit the candidates were made against, and the HEAD under it. */
  snapshot: { commit: string; baseHead: string | null };
  batchId?: string;
  config: AgentConfig;
  /** The tools the model was offered, so an export can show them exactly as the model saw them. */
  tools: ToolSpec[];
  candidates: StoredCandidate[];
  ranking?: Ranking;
  diversity?: Diversity;
  usage?: Usage;
  /** Texts the store clipped before writing (see store/boundTask.ts); absent when nothing was clipped. */
  clips?: StoreClip[];
  /**
   * How the run ended: `cancelled` by the user, `failed` (no rollout produced a candidate), else `complete`
   * (absent in records written before it existed). Only complete runs become training data (decisions.ts).
   */
  status?: TaskStatus;
}

/** How a recorded run ended. */
export type TaskStatus = 'complete' | 'cancelled' | 'failed';

/** One text the store clipped: where it was, and how long it was and is. */
export interface StoreClip {
  candidateId: string;
  /** Index of the message in the candidate's messages. */
  message: number;
  field: 'content' | 'arguments';
  originalChars: number;
  keptChars: number;
}

/** Fields every record carries. */
export interface RecordHeader {
  format: string;
  id: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  /** First 16 hex digits of sha256 over the canonical JSON of the record without this field. */
  checksum: string;
}

/** One best-of-N task with every trajectory; never edited after it is written. */
export interface TaskRecord extends RecordHeader, TaskInput {
  kind: 'task';
}

/** Every kind of decision, in the order they are shown; decisions.ts says what each one means. */
export const DECISION_KINDS = ['applied', 'kept', 'rejected', 'replaced', 'undone', 'reverted'] as const;

/** What the user did with a candidate (see decisions.ts). */
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** What a caller gives to record one decision. */
export interface DecisionInput {
  taskId: string;
  candidateId: string;
  decision: DecisionKind;
  /** For `replaced`: the candidate of the same task applied in its place. */
  by?: string;
  note?: string;
}

/** One user decision, appended after the task it points to; a later decision supersedes an earlier one. */
export interface DecisionRecord extends RecordHeader, DecisionInput {
  kind: 'decision';
}

/** Any record of the store. */
export type StoreRecord = TaskRecord | DecisionRecord;

/** Why a line was not accepted. */
export type SkipReason =
  /** The last line of a file, without its newline: a write cut short by a crash. */
  | 'torn_tail'
  /** A line that is not complete JSON, followed by other records: a torn tail that a later writer closed. */
  | 'truncated'
  /** Valid JSON whose checksum does not match: the line was altered after it was written. */
  | 'checksum_mismatch'
  /** A record of another major version, written by a newer release. */
  | 'unsupported_format'
  /** Valid JSON with a good checksum but missing the fields of its kind. */
  | 'invalid_record';

/** A line the reader refused, and where it is. */
export interface SkippedLine {
  file: string;
  /** 1-based line number. */
  line: number;
  reason: SkipReason;
  /** The first characters of the line, to help find it; never more than 80. */
  excerpt: string;
}

/** Everything a read found. `torn` counts `torn_tail` and `truncated` lines, which crashes produce. */
export interface ReadResult {
  tasks: TaskRecord[];
  decisions: DecisionRecord[];
  torn: number;
  skipped: SkippedLine[];
}
