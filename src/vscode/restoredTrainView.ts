import type { TrainView } from '../protocol/trainMessages.js';

/** The run a restored page kept, if it looks like one; an unfinished run is marked as stopped by the reload. */
export function restoredTrainView(state: unknown): TrainView | undefined {
  const view = state as Partial<TrainView> | undefined;
  if (!view || typeof view.runId !== 'string' || !Array.isArray(view.points)) return undefined;
  if (view.status === 'setup' || view.status === 'running') {
    return { ...(view as TrainView), status: 'cancelled', message: 'Stopped when the window was reloaded.', etaS: undefined };
  }
  return view as TrainView;
}
