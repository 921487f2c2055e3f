import { mapLimited } from '../concurrency.js';
import { isAbort } from '../errors.js';
import type { OpenAiModel, TokenLogprob } from '../llm/openAiModel.js';
import { judgeMessages } from './judgePrompt.js';
import type { SignalValue } from './signalTypes.js';
import { unavailable, type VerifiableCandidate } from './verifiable.js';
import type { Verifier } from './verifier.js';

/** Options of the LLM judge. */
export interface JudgeSignalOptions {
  model: OpenAiModel;
  issue: string;
  /** Context of the judge model, in tokens. */
  maxContextTokens?: number;
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Signal 7a: an LLM judge's P(YES) = e^lpYES / (e^lpYES + e^lpNO), read from the top logprobs at the verdict
 * token. Results are keyed by candidate id, never by completion order. An endpoint without logprobs makes
 * the signal unavailable; no number is invented.
 */
export async function judgeSignals(candidates: readonly VerifiableCandidate[], options: JudgeSignalOptions): Promise<Map<string, SignalValue>> {
  const values = await mapLimited(candidates, options.concurrency ?? 4, async (candidate): Promise<[string, SignalValue]> => {
    if (candidate.patch.trim() === '') return [candidate.id, unavailable('empty patch')];
    try {
      const messages = judgeMessages(options.issue, candidate.messages, candidate.patch, options.maxContextTokens ?? 32_000);
      const response = await options.model.judge(messages, { topLogprobs: 20, maxTokens: 16, signal: options.signal });
      return [candidate.id, verdict(response.logprobs, response.content)];
    } catch (error) {
      if (isAbort(error)) throw error;
      return [candidate.id, unavailable(`judge failed: ${error instanceof Error ? error.message : String(error)}`)];
    }
  });
  return new Map(values);
}

/** The LLM judge of one issue, for `verifyCandidates`. */
export function judgeVerifier(options: Omit<JudgeSignalOptions, 'signal'>): Verifier {
  return { signals: ['judge'], verify: async (candidates, signal) => ({ judge: await judgeSignals(candidates, { ...options, signal }) }) };
}

/** P(YES) from the logprobs of a judgement, or the reason it cannot be read. */
export function verdict(logprobs: readonly TokenLogprob[], content: string): SignalValue {
  if (logprobs.length === 0) return unavailable(`the endpoint returned no logprobs (answer was "${content.trim().slice(0, 40)}")`);
  const at = verdictPosition(logprobs);
  if (at < 0) return unavailable(`no YES/NO verdict token in the answer "${content.trim().slice(0, 60)}"`);
  const top = logprobs[at].topLogprobs.length > 0 ? logprobs[at].topLogprobs : [{ token: logprobs[at].token, logprob: logprobs[at].logprob }];
  const yes = best(top, 'YES');
  const no = best(top, 'NO');
  if (yes === undefined && no === undefined) return unavailable('neither YES nor NO among the top logprobs at the verdict');
  // A verdict missing from the top-k is at most as likely as the least likely listed token: use that bound.
  const floor = Math.min(...top.map((t) => t.logprob));
  const lpYes = yes ?? floor;
  const lpNo = no ?? floor;
  const pYes = 1 / (1 + Math.exp(lpNo - lpYes));
  const bound = yes === undefined ? ' (YES not in top-k; upper bound)' : no === undefined ? ' (NO not in top-k; lower bound)' : '';
  return { status: 'ok', score: pYes, detail: `judge P(YES) ${pYes.toFixed(2)}${bound}`, data: { lpYes, lpNo } };
}

/** Index of the token right after `<judgement>`, or of the first bare YES/NO token. */
function verdictPosition(logprobs: readonly TokenLogprob[]): number {
  let text = '';
  for (let i = 0; i < logprobs.length; i++) {
    if (/<judgement>\s*$/i.test(text) && /^\s*(YES|NO)/i.test(logprobs[i].token)) return i;
    text += logprobs[i].token;
  }
  return logprobs.findIndex((t) => /^\s*(YES|NO)\b/i.test(t.token));
}

function best(top: readonly { token: string; logprob: number }[], word: 'YES' | 'NO'): number | undefined {
  const matching = top.filter((t) => t.token.trim().toUpperCase() === word || t.token.trim().toUpperCase().startsWith(word) && t.token.trim().length <= word.length + 1);
  return matching.length === 0 ? undefined : Math.max(...matching.map((t) => t.logprob));
}
