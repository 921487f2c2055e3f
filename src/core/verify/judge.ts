import { mapLimited } from '../concurrency.js';
import { isAbort } from '../errors.js';
import { ContextOverflowError } from '../llm/contextOverflow.js';
import { LastingFailure } from '../llm/lastingFailure.js';
import type { JudgeResponse, OpenAiModel, TokenLogprob } from '../llm/openAiModel.js';
import type { Message, Usage } from '../types.js';
import { addUsage, zeroUsage } from '../usage.js';
import { estimateJudgeTokens, judgeMessages } from './judgePrompt.js';
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
  /** Told the tokens and cost of every judge call. */
  onUsage?: (usage: Usage) => void;
}

/** The answer's opening that makes the next token the verdict (the judge's template asks for it). */
export const VERDICT_PREFIX = '<judgement>';

/**
 * Signal 7a: an LLM judge's P(YES) = e^lpYES / (e^lpYES + e^lpNO), read from the top logprobs at the verdict
 * token. The verdict is forced where the server can continue a begun answer: the judge's reply starts with
 * `<judgement>`, so the first generated token is the verdict whatever the model would have written first
 * (a small model asked freely often explains instead and never says YES or NO). Results are keyed by
 * candidate id, never by completion order. An endpoint without logprobs makes the signal unavailable; no
 * number is invented.
 */
export async function judgeSignals(candidates: readonly VerifiableCandidate[], options: JudgeSignalOptions): Promise<Map<string, SignalValue>> {
  const values = new Map<string, SignalValue>();
  const asked = candidates.filter((c) => c.patch.trim() !== '');
  for (const c of candidates) if (c.patch.trim() === '') values.set(c.id, unavailable('empty patch'));
  if (asked.length === 0) return values;
  // One candidate first, and no more asked once an answer shows that every other would end the same: the
  // endpoint returns no logprobs, or it failed in a way that repeats (no server, a refused key, no answer in
  // time). The rest get that value, with its reason.
  const [first, ...rest] = asked;
  const probe = await judgeCandidate(first, options);
  values.set(first.id, probe.value);
  let final = probe.final ? probe.value : undefined;
  const judged = await mapLimited(rest, options.concurrency ?? 4, async (c) => {
    if (final) return [c.id, final] as const;
    const judgement = await judgeCandidate(c, options);
    if (judgement.final) final ??= judgement.value;
    return [c.id, judgement.value] as const;
  });
  for (const [id, value] of judged) values.set(id, value);
  return new Map(candidates.map((c) => [c.id, values.get(c.id)!]));
}

// One candidate's verdict, and whether every later call would end the same; a failed call is unavailable.
async function judgeCandidate(candidate: VerifiableCandidate, options: JudgeSignalOptions): Promise<{ value: SignalValue; final: boolean }> {
  try {
    const response = await judgeOne(options, candidate.messages, candidate.patch);
    options.onUsage?.(response.usage);
    return { value: verdict(response.logprobs, response.content, response.prefilled), final: response.logprobs.length === 0 };
  } catch (error) {
    if (isAbort(error)) throw error;
    return { value: unavailable(`judge failed: ${error instanceof Error ? error.message : String(error)}`), final: error instanceof LastingFailure };
  }
}

/** The LLM judge of one issue, for `verifyCandidates`; `spent` adds up what its calls cost. */
export function judgeVerifier(options: Omit<JudgeSignalOptions, 'signal' | 'onUsage'>): Verifier {
  const used = zeroUsage();
  const onUsage = (u: Usage) => addUsage(used, u);
  return {
    signals: ['judge'], spent: () => ({ ...used }),
    verify: async (candidates, signal) => ({ judge: await judgeSignals(candidates, { ...options, signal, onUsage }) }),
  };
}

/**
 * One judgement, its log condensed to the judge's context. A server with a smaller window than configured
 * (8k on a laptop) refuses the prompt and says how large it is and how many tokens it counted: the log is
 * condensed again to that window, in the server's own token counts.
 */
async function judgeOne(options: JudgeSignalOptions, trajectory: readonly Message[] | undefined, patch: string): Promise<JudgeResponse> {
  let limit = options.maxContextTokens ?? 32_000;
  for (let attempt = 0; ; attempt++) {
    const messages = judgeMessages(options.issue, trajectory, patch, limit);
    try {
      return await options.model.judge(messages, { topLogprobs: 20, maxTokens: 16, prefix: VERDICT_PREFIX, signal: options.signal });
    } catch (error) {
      if (!(error instanceof ContextOverflowError) || !error.contextTokens || attempt >= 2) throw error;
      // Real tokens per estimated one, from the refusal; 10% spare for the template and the answer
      const ratio = Math.max(1, (error.promptTokens ?? 0) / estimateJudgeTokens(messages));
      const smaller = Math.floor((error.contextTokens * 0.9) / ratio);
      if (smaller >= limit) throw error;
      limit = smaller;
    }
  }
}

/**
 * P(YES) from the logprobs of a judgement, or the reason it cannot be read. `prefilled` is the text the
 * answer continues (the server took the prefix): its first token is then the verdict.
 */
export function verdict(logprobs: readonly TokenLogprob[], content: string, prefilled?: string): SignalValue {
  if (logprobs.length === 0) return unavailable(`the endpoint returned no logprobs (answer was "${content.trim().slice(0, 40)}")`);
  const at = verdictPosition(logprobs, prefilled);
  if (at < 0) return unavailable(`no YES/NO verdict token in the answer "${content.trim().slice(0, 60)}"`);
  const top = logprobs[at].topLogprobs.length > 0 ? logprobs[at].topLogprobs : [{ token: logprobs[at].token, logprob: logprobs[at].logprob }];
  const yes = share(top, 'YES');
  const no = share(top, 'NO');
  if (yes === undefined && no === undefined) {
    return unavailable(`neither YES nor NO among the ${top.length} most likely tokens at the verdict (the most likely: "${top[0].token}")`);
  }
  // A verdict missing from the top-k is at most as likely as the least likely listed token: use that bound.
  const floor = Math.min(...top.map((t) => t.logprob));
  const lpYes = yes ?? floor;
  const lpNo = no ?? floor;
  const pYes = 1 / (1 + Math.exp(lpNo - lpYes));
  const bound = yes === undefined ? ' (YES not in top-k; upper bound)' : no === undefined ? ' (NO not in top-k; lower bound)' : '';
  return { status: 'ok', score: pYes, detail: `judge P(YES) ${pYes.toFixed(2)}${bound}`, data: { lpYes, lpNo } };
}

/**
 * Index of the verdict token: the first one when the answer continues the prefix (unless it starts the tag
 * again, as a server that ignored the prefix makes it), else the token right after `<judgement>`, else
 * the first bare YES/NO.
 */
function verdictPosition(logprobs: readonly TokenLogprob[], prefilled: string | undefined): number {
  if (prefilled !== undefined && !/^\s*</.test(logprobs[0].token)) return 0;
  let text = '';
  for (let i = 0; i < logprobs.length; i++) {
    if (/<judgement>\s*$/i.test(text) && (spells(logprobs[i].token, 'YES') || spells(logprobs[i].token, 'NO'))) return i;
    text += logprobs[i].token;
  }
  return logprobs.findIndex((t) => /^\s*(YES|NO)\b/i.test(t.token));
}

/**
 * Whether a token begins `word` in any case: the word itself, a piece of it (tokenizers split YES into
 * "Y" + "ES"), or the word followed by punctuation ("YES<").
 */
function spells(token: string, word: 'YES' | 'NO'): boolean {
  const t = token.trim().toUpperCase();
  return t.length > 0 && (word.startsWith(t) || (t.startsWith(word) && !/[A-Z]/.test(t.charAt(word.length))));
}

/** log of the probability mass of the top tokens that begin `word` (every spelling of the answer counts). */
function share(top: readonly { token: string; logprob: number }[], word: 'YES' | 'NO'): number | undefined {
  const matching = top.filter((t) => spells(t.token, word)).map((t) => t.logprob);
  if (matching.length === 0) return undefined;
  const max = Math.max(...matching);
  return max + Math.log(matching.reduce((sum, lp) => sum + Math.exp(lp - max), 0));
}
