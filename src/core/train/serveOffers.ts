/** How a trained adapter can be served, from the trainer's `done` event: vLLM, llama.cpp's server, Ollama. */
import type { TrainDone } from './trainEvents.js';

/** One server that can serve the adapter: the command to run, and what to point the agent at afterwards. */
export interface ServeOffer {
  server: 'vLLM' | 'llama.cpp' | 'Ollama';
  command: string;
  /** The endpoint and model name for the agent once the command runs. */
  then: string;
}

/**
 * The offers a finished run makes, in this order: vLLM (any base), then llama.cpp and Ollama (a GGUF base;
 * the trainer leaves their commands out otherwise and says why in `gguf_adapter_note`).
 */
export function serveOffers(done: TrainDone): ServeOffer[] {
  const offers: ServeOffer[] = [];
  if (done.vllm_command) offers.push({ server: 'vLLM', command: done.vllm_command, then: 'endpoint http://localhost:8000/v1, model "entropo"' });
  if (done.llama_cpp_command) {
    // llama-server serves one model and answers to any model name
    offers.push({ server: 'llama.cpp', command: done.llama_cpp_command, then: 'endpoint http://localhost:8080/v1, any model name' });
  }
  if (done.ollama_command) {
    offers.push({ server: 'Ollama', command: done.ollama_command, then: `endpoint http://localhost:11434/v1, model "entropo" (the Modelfile is ${done.ollama_modelfile ?? 'next to the adapter'})` });
  }
  return offers;
}
