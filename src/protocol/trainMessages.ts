/** Typed messages between the extension and the training panel's webview (types only, no code). */

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
}

/** Extension -> webview. */
export type ToTrainWebview =
  | { type: 'state'; state: TrainView }
  | { type: 'step'; runId: string; point: TrainPoint; totalSteps: number; etaS?: number };

/** Webview -> extension. */
export type FromTrainWebview =
  | { type: 'ready' }
  | { type: 'copyVllmCommand' }
  | { type: 'revealAdapter' }
  | { type: 'cancel' };
