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
  signals: SignalView[];
  /** `reverted`: applied, then taken back by the user. */
  decision?: 'applied' | 'rejected' | 'reverted';
  /** Why the candidate is not worth applying (e.g. "breaks tests: breaks 5 of 5 passing tests"); absent when it is. */
  unfit?: string;
}

/** What the batch amounts to, as the CLI and result.json say it. */
export interface OutcomeView {
  kind: 'ready' | 'no_fit_candidate' | 'failed';
  summary: string;
  recommended?: string;
}

/** Everything the panel shows; the extension sends it whole on every change. */
export interface ReviewState {
  runId: string;
  issueTitle: string;
  status: 'running' | 'verifying' | 'done' | 'cancelled' | 'failed';
  message?: string;
  rollouts: RolloutView[];
  candidates: CandidateView[];
  diversity?: { distinct: number; similarity: number };
  totals?: { tokens: number; costUsd: number; wallMs: number };
  mode?: string;
  /** Absent while the run goes on, and in runs saved before outcomes existed. */
  outcome?: OutcomeView;
}

/** One step of a trajectory as the panel shows it. */
export interface StepView {
  index: number;
  thought: string;
  action: string;
  observation: string;
}

/** Webview to extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'openDiff'; candidateId: string }
  | { type: 'showTrajectory'; candidateId: string }
  | { type: 'apply'; candidateId: string }
  | { type: 'reject'; candidateId: string }
  | { type: 'compare'; a: string; b: string };

/** Extension to webview. */
export type ToWebview =
  | { type: 'state'; state: ReviewState }
  | { type: 'trajectory'; candidateId: string; steps: StepView[] };
