import type { ExitReason, Step } from '../types.js';

/** What a rollout reports while it runs; the CLI and the extension render these. */
export type AgentEvent =
  | { type: 'model_call'; runId: string; step: number }
  | { type: 'step'; runId: string; step: Step }
  | { type: 'end'; runId: string; exitReason: ExitReason; message?: string; steps: number };
