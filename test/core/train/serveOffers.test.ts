import { describe, expect, it } from 'vitest';
import { serveOffers } from '../../../src/core/train/serveOffers.js';
import { parseTrainLine, type TrainDone } from '../../../src/core/train/trainEvents.js';

describe('serveOffers', () => {
  it('offers vLLM, llama.cpp and Ollama for a GGUF base, in that order, from the trainer\'s done line', () => {
    const line = JSON.stringify({ event: 'done', adapter_dir: '/o/adapter', merged_dir: null, steps: 2,
      vllm_command: 'vllm serve /cache/abc --enable-lora --lora-modules entropo=/o/adapter --max-lora-rank 8',
      gguf_adapter: '/o/adapter.gguf', gguf_adapter_note: null, llama_cpp_command: 'llama-server -m /m/s.gguf --lora /o/adapter.gguf',
      ollama_modelfile: '/o/Modelfile', ollama_command: 'ollama create entropo -f /o/Modelfile' });
    const done = parseTrainLine(line) as TrainDone;
    expect(serveOffers(done)).toEqual([
      { server: 'vLLM', command: done.vllm_command, then: 'endpoint http://localhost:8000/v1, model "entropo"' },
      { server: 'llama.cpp', command: 'llama-server -m /m/s.gguf --lora /o/adapter.gguf', then: 'endpoint http://localhost:8080/v1, any model name' },
      { server: 'Ollama', command: 'ollama create entropo -f /o/Modelfile', then: 'endpoint http://localhost:11434/v1, model "entropo" (the Modelfile is /o/Modelfile)' },
    ]);
  });

  it('offers only vLLM for a Hugging Face base, whose llama.cpp and Ollama commands are null', () => {
    const done: TrainDone = { event: 'done', adapter_dir: '/o/adapter', vllm_command: 'vllm serve /m', gguf_adapter: '/o/adapter.gguf',
      gguf_adapter_note: 'the base is a Hugging Face directory', llama_cpp_command: null, ollama_modelfile: null, ollama_command: null };
    expect(serveOffers(done).map((o) => o.server)).toEqual(['vLLM']);
  });
});
