import { AgentError, ErrorReason } from '../errors.js';
import type { Limits, SamplingParams } from '../types.js';
import { SETTINGS } from '../settings/settings.js';
import type { ActionFormat } from './parseAction.js';

/** Everything that shapes one rollout; recorded whole in every trajectory. */
export interface AgentConfig {
  format: ActionFormat;
  limits: Limits;
  sampling: SamplingParams;
}

/** Defaults: the settings' (DESIGN.md section 3: 100 steps, 64k context, 16k new tokens, 90 s per command). */
export const DEFAULT_LIMITS: Limits = {
  maxSteps: SETTINGS.maxSteps.default,
  maxContextTokens: SETTINGS.maxContextTokens.default,
  maxNewTokens: SETTINGS.maxNewTokens.default,
  wallTimeMs: SETTINGS.timeLimitMinutes.default * 60_000,
  maxCostUsd: SETTINGS.maxCostUsd.default,
  toolTimeoutMs: SETTINGS.toolTimeoutSeconds.default * 1000,
};

/**
 * Sampling that keeps N runs different (temperature 0.7, top_p 0.8, as EntroPO sampled). top_k and the
 * repetition penalty are not standard OpenAI parameters: they go to the servers that take them (serverProfile.ts).
 */
export const DEFAULT_SAMPLING: SamplingParams = { temperature: SETTINGS.temperature.default, topP: SETTINGS.topP.default };

/** Merges a partial config over the defaults and validates it once. */
export function resolveConfig(partial: {
  format?: ActionFormat;
  limits?: Partial<Limits>;
  sampling?: SamplingParams;
} = {}): AgentConfig {
  const limits = { ...DEFAULT_LIMITS, ...stripUndefined(partial.limits ?? {}) };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !(value > 0)) {
      throw new AgentError(ErrorReason.Config, `Limit ${name} must be a positive number, got ${String(value)}.`);
    }
  }
  if (!Number.isInteger(limits.maxSteps)) throw new AgentError(ErrorReason.Config, 'Limit maxSteps must be an integer.');
  const sampling = { ...DEFAULT_SAMPLING, ...stripUndefined(partial.sampling ?? {}) };
  if (sampling.temperature !== undefined && (sampling.temperature < 0 || sampling.temperature > 2)) {
    throw new AgentError(ErrorReason.Config, `temperature must be between 0 and 2, got ${sampling.temperature}.`);
  }
  if (sampling.topP !== undefined && (sampling.topP <= 0 || sampling.topP > 1)) {
    throw new AgentError(ErrorReason.Config, `top_p must be in (0, 1], got ${sampling.topP}.`);
  }
  const format = partial.format ?? 'tools';
  if (format !== 'tools' && format !== 'text') {
    throw new AgentError(ErrorReason.Config, `The action format must be "tools" or "text", got ${String(format)}.`);
  }
  return { format, limits, sampling };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
