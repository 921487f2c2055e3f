import type { SignalName, SignalValue } from './signalTypes.js';

/** How a signal's value reads at a glance: for the candidate, against it, or neither. */
export type SignalTone = 'good' | 'bad' | 'neutral';

/**
 * The tone of one signal's value, from the score conventions of its module. The learned verifiers are
 * probabilities whose scale depends on the model, so they stay neutral; so does a unique patch.
 */
export function signalTone(name: SignalName, value: SignalValue): SignalTone {
  if (value.status !== 'ok') return 'neutral';
  switch (name) {
    case 'finished':
    case 'validity':
      return value.score > 0 ? 'good' : 'bad';
    case 'syntax':
    case 'regression':
      return value.score < 0 ? 'bad' : 'good';
    case 'reproduction': {
      const total = value.data?.total;
      if (typeof total === 'number' && value.score >= total && total > 0) return 'good';
      return value.score > 0 ? 'neutral' : 'bad';
    }
    case 'agreement':
      return value.score > 1 ? 'good' : 'neutral';
    default:
      return 'neutral';
  }
}
