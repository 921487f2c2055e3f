import { SIGNAL_NAMES, type SignalName } from '../core/verify/signalTypes.js';
import { UsageError } from './usageError.js';

/** The signals `--signals` keeps, validated against the signal names; undefined when the flag is absent. */
export function signalsFromFlags(flags: Record<string, unknown>): Set<SignalName> | undefined {
  if (flags.signals === undefined) return undefined;
  const names = String(flags.signals).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SIGNAL_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    const what = names.length === 0 ? 'is empty' : `names unknown signal${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`;
    throw new UsageError(`--signals ${what}; valid names: ${SIGNAL_NAMES.join(', ')}.`);
  }
  return new Set(names as SignalName[]);
}
