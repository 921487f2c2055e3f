import { OpenAiModel } from '../core/llm/openAiModel.js';
import { UsageError } from './usageError.js';

/** The flags that turn on the LLM judge, shared by `run` and `rank`. */
export const JUDGE_FLAGS = {
  'judge-url': { type: 'string', value: 'URL', help: 'LLM judge endpoint (needs logprobs); default: no judge.' },
  'judge-model': { type: 'string', value: 'NAME', help: 'LLM judge model name.' },
} as const;

/** The judge the flags ask for, or undefined; the API key comes from the environment like the model's. */
export function judgeFromFlags(flags: Record<string, unknown>, apiKey = process.env.ENTROPO_API_KEY ?? process.env.OPENAI_API_KEY): { model: OpenAiModel } | undefined {
  if (!flags['judge-url']) return undefined;
  if (!flags['judge-model']) throw new UsageError('--judge-url needs --judge-model.');
  return { model: new OpenAiModel({ baseUrl: String(flags['judge-url']), model: String(flags['judge-model']), apiKey }) };
}
