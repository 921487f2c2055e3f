/** Typed messages between the extension and the training panel's webview (types only, no code). */
import type { ServeOffer } from '../core/train/serveOffers.js';

/** One optimizer step as the chart plots it; a metric the trainer does not define for the method is null. */
export interface TrainPoint {
  step: number;
  loss: number | null;
  rewardMargin: number | null;
  entropy: number | null;
  prefAccuracy: number | null;
}

/** Where a training run is. */
export type TrainStatus = 'setup' | 'running' | 'done' | 'failed' | 'cancelled';

/** Everything the panel shows about one training run. */
export interface TrainView {
  runId: string;
  method: string;
  baseModel: string;
  data: string;
  out: string;
  status: TrainStatus;
  /** The latest setup or status line, or the error in plain words. */
  message?: string;
  totalSteps?: number;
  etaS?: number;
  points: TrainPoint[];
  adapterDir?: string;
  vllmCommand?: string;
  /** The other servers that can serve the adapter (llama.cpp, Ollama), for a GGUF base. */
  serveOffers?: ServeOffer[];
}

/** Extension -> webview. */
export type ToTrainWebview =
  | { type: 'state'; state: TrainView }
  | { type: 'step'; runId: string; point: TrainPoint; totalSteps: number; etaS?: number };

/** Webview -> extension. */
export type FromTrainWebview =
  | { type: 'ready' }
  | { type: 'copyVllmCommand' }
  | { type: 'copyServeCommand'; server: ServeOffer['server'] }
  | { type: 'revealAdapter' }
  | { type: 'cancel' };
