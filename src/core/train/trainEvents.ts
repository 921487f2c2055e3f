/** The trainer's progress protocol: one JSON object per line on its stdout (trainer/README.md). */

/** Training started. */
export interface TrainStart { event: 'start'; method: string; base_model: string; data: string; [key: string]: unknown }

/** One optimizer step. */
export interface TrainStep {
  event: 'step';
  step: number;
  total_steps: number;
  /** Each figure is null where the step could not measure it (the trainer writes no NaN): a KTO batch of desirable examples only has no margin. */
  loss: number | null;
  reward_margin?: number | null;
  pref_accuracy?: number | null;
  logit_scale?: number | null;
  entropy?: number | null;
  tokens_per_s?: number | null;
  eta_s?: number | null;
  lr?: number | null;
}

/**
 * Training finished; the adapter is saved, also as a llama.cpp GGUF adapter where the architecture allows.
 * The llama.cpp and Ollama fields are null without a GGUF base (or a GGUF adapter); `gguf_adapter_note` says why.
 */
export interface TrainDone {
  event: 'done';
  adapter_dir: string;
  vllm_command?: string;
  gguf_adapter?: string | null;
  gguf_adapter_note?: string | null;
  llama_cpp_command?: string | null;
  ollama_modelfile?: string | null;
  ollama_command?: string | null;
  [key: string]: unknown;
}

/** The trainer failed; `kind` is oom, data, missing_package, no_gpu, model, usage, template, stopped (SIGTERM, SIGINT) or internal. */
export interface TrainError { event: 'error'; kind: string; message: string }

/** A trainer event, plus lines of setup output and of the trainer's stderr. */
export type TrainEvent = TrainStart | TrainStep | TrainDone | TrainError | { event: 'setup' | 'log'; line: string };

/** Parses one stdout line of the trainer; anything that is not a known event becomes a log line. */
export function parseTrainLine(line: string): TrainEvent {
  try {
    const value = JSON.parse(line) as { event?: unknown };
    if (value && typeof value === 'object' && ['start', 'step', 'done', 'error'].includes(String(value.event))) return value as TrainEvent;
  } catch {
    // Not JSON: a stray print of a library.
  }
  return { event: 'log', line };
}
