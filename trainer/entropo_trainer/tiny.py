"""Builds a tiny, randomly initialized chat model and tokenizer on disk, with no downloads.

Tests, benchmarks and smoke runs of the product use it as a real `--base-model DIR`: a byte-level BPE
tokenizer trained on a small corpus, a ChatML chat template that renders native tool calls, and a
two-layer Qwen3 model built from a config.

Run: python -m entropo_trainer.tiny OUT_DIR [--corpus FILE ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterable

#: ChatML with tools (Qwen2.5 style): tool specs in the system turn, calls as <tool_call> JSON, results as
#: <tool_response> inside a user turn.
CHATML_TOOLS_TEMPLATE = (
    # Newlines are written as expressions because chat templates run with trim_blocks/lstrip_blocks
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages and messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    "{{- '# Tools\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}"
    "{{- '\\n</tools><|im_end|>\\n' }}"
    "{%- elif messages and messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'system' %}"
    "{%- elif message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' + message.content }}"
    "{%- for call in message.tool_calls or [] %}"
    "{{- '\\n<tool_call>\\n{\"name\": \"' + call.function.name + '\", \"arguments\": ' }}"
    "{{- call.function.arguments | tojson }}{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response><|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_DEFAULT_CORPUS = (
    "def chunked(items, size):\n    return [items[i:i + size] for i in range(0, len(items), size)]\n"
    "<function=file_editor>\n<parameter=command>view</parameter>\n</function>\n"
    '<tool_call>\n{"name": "execute_bash", "arguments": {"cmd": "python -m pytest -q"}}\n</tool_call>\n'
    "<judgement>YES</judgement> <judgement>NO</judgement> Exit code: 0 [STDOUT] [STDERR] Steps remaining:\n"
)


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 1024):
    """Trains a byte-level BPE tokenizer on `corpus` and wraps it with the ChatML tools template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([_DEFAULT_CORPUS, *corpus], trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    wrapped.chat_template = CHATML_TOOLS_TEMPLATE
    return wrapped


def build_model(vocab_size: int, hidden: int = 32, layers: int = 2, seed: int = 0, max_positions: int = 8192):
    """A randomly initialized Qwen3 causal LM small enough to train on a CPU in seconds.

    Qwen3 rather than Qwen2 also because transformers maps the `qwen2` model type to Qwen2's own tokenizer
    class, which would replace the pre-tokenizer saved with the tiny tokenizer.
    """
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2, head_dim=hidden // 4,
                         max_position_embeddings=max_positions, tie_word_embeddings=False,
                         pad_token_id=0, eos_token_id=2, bos_token_id=None)
    torch.manual_seed(seed)
    return Qwen3ForCausalLM(config)


def save_tiny(out_dir: str | Path, corpus: Iterable[str] = (), vocab_size: int = 1024, hidden: int = 32,
              layers: int = 2, seed: int = 0) -> Path:
    """Writes tokenizer + model to `out_dir` so that `from_pretrained(out_dir)` loads both."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(corpus, vocab_size)
    model = build_model(len(tokenizer), hidden=hidden, layers=layers, seed=seed)
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.eos_token_id = tokenizer.eos_token_id
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def corpus_from_jsonl(paths: Iterable[str | Path]) -> list[str]:
    """Every message content and tool spec of exported JSON lines, as tokenizer training text."""
    texts = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            for key in ("prompt", "chosen", "rejected", "completion"):
                for message in obj.get(key, []):
                    texts.append(message["content"])
                    texts.extend(json.dumps(c) for c in message.get("tool_calls", []))
            texts.extend(json.dumps(t) for t in obj.get("tools", []))
    return texts


def main(argv: list[str] | None = None) -> int:
    """Command line: writes a tiny model directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--corpus", nargs="*", default=[], help="JSONL export files to train the tokenizer on")
    parser.add_argument("--vocab-size", type=int, default=1024)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    save_tiny(args.out_dir, corpus_from_jsonl(args.corpus), args.vocab_size, args.hidden, args.layers, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
