/** Typed messages between the extension and the review panel's webview (types only, no code). */

/** One signal of one candidate, as shown in the panel. */
export interface SignalView {
  name: string;
  status: 'ok' | 'unavailable';
  /** Whether the value speaks for the candidate, against it, or neither (absent in runs saved before tones). */
  tone?: 'good' | 'bad' | 'neutral';
  score?: number;
  /** The signal's one-line detail, or why it is unavailable. */
  detail: string;
}

/** A rollout while it runs. */
export interface RolloutView {
  id: string;
  status: 'waiting' | 'running' | 'done';
  steps: number;
  lastAction?: string;
  exitReason?: string;
}

/** A ranked candidate. */
export interface CandidateView {
  id: string;
  rank: number;
  exitReason: string;
  steps: number;
  tokens: number;
  costUsd: number;
  wallMs: number;
  changedFiles: string[];
  added: number;
  removed: number;
  explanation: string;
  /** The signals in one line: "tests 5/5 kept, 4 fixed · repro 1/1 · syntax ok" (absent in runs saved before it). */
  summary?: string;
  /** The one candidate worth applying that the panel marks; at most one per run. */
  recommended?: boolean;
  signals: SignalView[];
  /** The latest decision about it (core/store/decisions.ts says what each means). */
  decision?: 'applied' | 'kept' | 'rejected' | 'replaced' | 'undone' | 'reverted';
  /** Why the candidate is not worth applying (e.g. "breaks tests: breaks 5 of 5 passing tests"); absent when it is. */
  unfit?: string;
  /** Why no decision about it becomes training data (its rollout failed or was cancelled); the panel offers no Reject. */
  untrainable?: string;
  /** Where the panel folds it: empty, unfinished, invalid, cancelled or failed candidates go under "Not recommended". */
  folded?: boolean;
}

/** What the batch amounts to, as the CLI and result.json say it. */
export interface OutcomeView {
  kind: 'ready' | 'no_fit_candidate' | 'failed' | 'cancelled';
  summary: string;
  recommended?: string;
  /** A close call between the recommended candidate and the next. */
  nearTie?: string;
  /** Things to say once about the whole run, e.g. that the endpoint returned no logprobs for the judge. */
  notes?: string[];
}

/** Everything the panel shows; the extension sends it whole on every change. */
export interface ReviewState {
  runId: string;
  issueTitle: string;
  status: 'running' | 'verifying' | 'done' | 'cancelled' | 'failed';
  message?: string;
  rollouts: RolloutView[];
  candidates: CandidateView[];
  /** How different the candidates' patches are, in words (`describeDiversity`). */
  diversity?: string;
  /** Rollouts and verifiers together; `judgeTokens` is the judge's share, when it was asked. */
  totals?: { tokens: number; costUsd: number; wallMs: number; judgeTokens?: number };
  /** Whether prices are set, so that costs mean something; the panel hides them otherwise. */
  priced?: boolean;
  mode?: string;
  /** Absent while the run goes on, and in runs saved before outcomes existed. */
  outcome?: OutcomeView;
}

/** One step of a trajectory as the panel shows it. */
export interface StepView {
  index: number;
  thought: string;
  /** The action in one line, e.g. "file_editor str_replace pager/core.py", or "(malformed action)". */
  action: string;
  observation: string;
  /** How the panel draws the action: an edit as a small diff, a command as a terminal block, else the arguments. */
  kind?: 'edit' | 'shell' | 'other' | 'malformed';
  /** The file an edit touches, relative to the repository. */
  path?: string;
  /** A str_replace's old and new lines. */
  diff?: { removed: string[]; added: string[] };
  /** The shell command, and how it exited ("0", "2", "timed out"). */
  command?: string;
  exit?: string;
  /** The action's arguments as JSON, for any other tool. */
  args?: string;
}

/** What the panel asks about the candidates of the run it shows. */
export type CandidateRequest =
  | { type: 'openDiff'; candidateId: string }
  | { type: 'showTrajectory'; candidateId: string }
  | { type: 'apply'; candidateId: string }
  | { type: 'reject'; candidateId: string }
  | { type: 'undo'; candidateId: string }
  | { type: 'compare'; a: string; b: string };

/**
 * Webview to extension. A request names the run the panel showed when it was made: every run calls its
 * candidates r0, r1, ..., so an id alone could act on another run than the one on screen.
 */
export type FromWebview = { type: 'ready' } | (CandidateRequest & { runId: string });

/** Extension to webview. */
export type ToWebview =
  | { type: 'state'; state: ReviewState }
  | { type: 'trajectory'; candidateId: string; steps: StepView[] }
  | { type: 'step'; candidateId: string; step: StepView };
