import { describe, expect, it } from 'vitest';
import type { TrainView } from '../../src/protocol/trainMessages.js';
import { restoredTrainView } from '../../src/vscode/restoredTrainView.js';

const view = (status: TrainView['status']): TrainView => ({
  runId: 'train-1', method: 'entropo-dpo', baseModel: '/m', data: '/d.jsonl', out: '/o', status, etaS: 42,
  points: [{ step: 1, loss: 0.69, rewardMargin: 0, entropy: 6.9, prefAccuracy: 0.5 }],
});

describe('restoredTrainView', () => {
  it('keeps a finished, failed or cancelled run as it was', () => {
    for (const status of ['done', 'failed', 'cancelled'] as const) expect(restoredTrainView(view(status))).toEqual(view(status));
  });

  it('says that a run still going at the reload was stopped with the window, keeping its curves', () => {
    for (const status of ['setup', 'running'] as const) {
      const restored = restoredTrainView(view(status));
      expect(restored).toMatchObject({ status: 'cancelled', message: 'Stopped when the window was reloaded.', etaS: undefined });
      expect(restored?.points).toEqual(view(status).points);
    }
  });

  it('shows nothing for a state that is not a run (an empty page, another version\'s state)', () => {
    for (const state of [undefined, null, {}, { runId: 'x' }, 'text']) expect(restoredTrainView(state)).toBeUndefined();
  });
});
