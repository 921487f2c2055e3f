/**
 * A request that does not fit the server's context window. Servers refuse it with HTTP 400 and a message
 * of their own; most say how large the window is, which lets the agent condense to the real size (a laptop
 * server often runs a model with 4-8k tokens while the agent's default is 64k) instead of failing.
 */
import { AgentError, ErrorReason } from '../errors.js';

/** The server's refusal of a prompt longer than its context, with the sizes it reported. */
export class ContextOverflowError extends AgentError {
  constructor(
    message: string,
    /** The server's context window in tokens, when its message says. */
    readonly contextTokens?: number,
    /** How many tokens the server counted in the refused request, when its message says. */
    readonly promptTokens?: number,
  ) {
    super(ErrorReason.ContextOverflow, message);
    this.name = 'ContextOverflowError';
  }
}

// What each server says (checked against llama.cpp's server here; the others from their sources and docs):
// llama.cpp      "request (9031 tokens) exceeds the available context size (8192 tokens), try increasing it"
// vLLM / OpenAI  "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens ..."
//                "... maximum context length is 8192 tokens and your request has 9000 input tokens ..."
// llama-cpp-py   "Requested tokens (9031) exceed context window of 8192"
// SGLang         "The input (9031 tokens) is longer than the model's context length (8192 tokens)."
// LM Studio      "... the model is loaded with context length of only 8192 tokens, which is not enough ..."
const IS_OVERFLOW = /exceed_context_size|context_length_exceeded|context (?:size|length|window)|maximum context length/i;
const CONTEXT = [/context size \((\d+) tokens?\)/i, /maximum context length is (\d+)/i, /context window of (\d+)/i,
  /context length \((\d+) tokens?\)/i, /context length of (?:only )?(\d+)/i];
const PROMPT = [/request \((\d+) tokens?\)/i, /request has (\d+) input tokens/i, /you requested (\d+) tokens/i,
  /messages resulted in (\d+) tokens/i, /requested tokens \((\d+)\)/i, /input \((\d+) tokens?\)/i];

/** Reads a context-overflow refusal from an HTTP status and the server's message; undefined for any other error. */
export function parseContextOverflow(status: number, message: string): { contextTokens?: number; promptTokens?: number } | undefined {
  if ((status !== 400 && status !== 413) || !IS_OVERFLOW.test(message)) return undefined;
  const first = (patterns: RegExp[]) => {
    for (const pattern of patterns) {
      const match = pattern.exec(message);
      if (match) return Number(match[1]);
    }
    return undefined;
  };
  return { contextTokens: first(CONTEXT), promptTokens: first(PROMPT) };
}
