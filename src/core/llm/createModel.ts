import { AgentError, ErrorReason } from '../errors.js';
import type { Model } from '../types.js';
import { OpenAiModel } from './openAiModel.js';
import { ScriptedModel } from './scriptedModel.js';
import { DEFAULT_EXTRAS, detectServer, extrasFor } from './serverProfile.js';

/** Where rollouts get their model: a live OpenAI-compatible endpoint or recorded scripts. */
export type ModelSource =
  | {
      kind: 'endpoint'; baseUrl: string; model: string; apiKey?: string;
      /** See OpenAiModelOptions: until the server starts answering, and the longest silence mid-answer. */
      requestTimeoutMs?: number; streamIdleTimeoutMs?: number;
      pricing?: { inputPerMTok: number; outputPerMTok: number };
    }
  | { kind: 'scripts'; files: string[] };

/**
 * Returns a factory giving rollout k its model. Scripts are assigned round-robin and each rollout gets a
 * fresh replay; endpoint rollouts share one client, which sends the design's top_k and repetition penalty,
 * and each rollout's seed, in the spelling of the server it finds (serverProfile.ts).
 */
export async function createModelFactory(source: ModelSource): Promise<(index: number) => Model> {
  if (source.kind === 'endpoint') {
    const server = await detectServer(source.baseUrl, source.apiKey);
    // Streamed, so that a slow server that keeps sending goes on while a silent one is stopped by the idle
    // timeout: without streaming one timeout would have to cover a whole 16k-token answer.
    const model = new OpenAiModel({ baseUrl: source.baseUrl, model: source.model, apiKey: source.apiKey, stream: true,
      requestTimeoutMs: source.requestTimeoutMs, streamIdleTimeoutMs: source.streamIdleTimeoutMs, pricing: source.pricing,
      defaultExtra: extrasFor(server, DEFAULT_EXTRAS), server });
    return () => model;
  }
  if (source.files.length === 0) throw new AgentError(ErrorReason.Config, 'No model script given.');
  // Loaded up front so that a broken script fails before any worktree is made.
  const loaded = await Promise.all(source.files.map((file) => ScriptedModel.fromFile(file)));
  return (index) => loaded[index % loaded.length].fork();
}
