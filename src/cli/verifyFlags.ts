import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { OpenAiModel } from '../core/llm/openAiModel.js';
import type { SelectOptions } from '../core/verify/select.js';
import { SIGNAL_NAMES, type SelectorMode, type SignalName, type TieBreak } from '../core/verify/signalTypes.js';
import { numberFlag } from './options.js';
import { UsageError } from './usageError.js';

/** The test run time limit when none is given, in seconds; the extension's setting has the same default. */
export const DEFAULT_TEST_TIMEOUT_S = 600;
/** Test runs at once when not given; the extension's setting has the same default. */
export const DEFAULT_TEST_CONCURRENCY = 2;

/** The flags that shape verification and ranking, shared by `run` and `rank`. */
export const VERIFY_FLAGS = {
  mode: { type: 'string', value: 'entropo|r2e', help: "Selector: EntroPO's hybrid order (default) or R2E-Gym's." },
  'tie-break': { type: 'string', value: 'NAME', help: 'verifier (default), agreement, longest or shortest.' },
  'judge-url': { type: 'string', value: 'URL', help: 'LLM judge endpoint (needs logprobs); default: no judge.' },
  'judge-model': { type: 'string', value: 'NAME', help: 'LLM judge model name.' },
  'local-model': { type: 'string', value: 'FILE', help: 'Local verifier model (.onnx), e.g. one retrained on your decisions; default: the bundled one.' },
  'test-timeout': { type: 'string', value: 'SECONDS', help: `Time limit of one test run; a run killed at it gives no regression score (default ${DEFAULT_TEST_TIMEOUT_S}).` },
  'test-concurrency': { type: 'string', value: 'K', help: `Test runs at once (default ${DEFAULT_TEST_CONCURRENCY}).` },
} as const;

/** The time limit and concurrency of test runs the flags ask for, validated. */
export function testOptionsFromFlags(flags: Record<string, unknown>): { testTimeoutMs: number; concurrency: number } {
  return {
    testTimeoutMs: numberFlag(flags['test-timeout'], 'test-timeout', DEFAULT_TEST_TIMEOUT_S, 1)! * 1000,
    concurrency: Math.floor(numberFlag(flags['test-concurrency'], 'test-concurrency', DEFAULT_TEST_CONCURRENCY, 1, 64)!),
  };
}

/** The local verifier model the flags name (checked to exist), or undefined for the bundled one. */
export function localModelFromFlags(flags: Record<string, unknown>): string | undefined {
  if (flags['local-model'] === undefined) return undefined;
  const file = path.resolve(String(flags['local-model']));
  if (!existsSync(file)) throw new UsageError(`--local-model ${file} does not exist.`);
  return file;
}

/** The judge the flags ask for, or undefined; the API key comes from the environment like the model's. */
export function judgeFromFlags(flags: Record<string, unknown>, apiKey = process.env.ENTROPO_API_KEY ?? process.env.OPENAI_API_KEY): { model: OpenAiModel } | undefined {
  if (!flags['judge-url']) return undefined;
  if (!flags['judge-model']) throw new UsageError('--judge-url needs --judge-model.');
  return { model: new OpenAiModel({ baseUrl: String(flags['judge-url']), model: String(flags['judge-model']), apiKey }) };
}

/** The selector settings the flags ask for, validated. */
export function selectorFromFlags(flags: Record<string, unknown>): SelectOptions {
  return {
    mode: choice(flags.mode, 'mode', ['entropo', 'r2e']) as SelectorMode | undefined,
    tieBreak: choice(flags['tie-break'], 'tie-break', ['verifier', 'agreement', 'longest', 'shortest']) as TieBreak | undefined,
  };
}

/** A flag that takes one of a few words, or undefined when absent. */
export function choice(value: unknown, name: string, allowed: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(String(value))) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${String(value)}".`);
  return String(value);
}

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
