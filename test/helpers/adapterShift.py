"""How a trained LoRA adapter shifts the next-token log-probs of a fixed prompt, computed by transformers.

The reference for what llama.cpp's server shows with the same adapter in GGUF form:
    python adapterShift.py BASE.gguf GGUF_CACHE ADAPTER_DIR '[prompt token ids]' '[token ids to report]'
prints {"<id>": logprob with the adapter - logprob without, ...} as JSON.
"""

import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from entropo_trainer.gguf_base import converted_dir


def main() -> None:
    gguf, cache, adapter, prompt, report = sys.argv[1:6]
    base = AutoModelForCausalLM.from_pretrained(str(converted_dir(gguf, cache)), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter).eval()
    ids = torch.tensor([json.loads(prompt)])
    with torch.no_grad():
        with model.disable_adapter():
            before = torch.log_softmax(model(ids).logits[0, -1].float(), -1)
        after = torch.log_softmax(model(ids).logits[0, -1].float(), -1)
    print(json.dumps({str(i): float(after[i] - before[i]) for i in json.loads(report)}))


if __name__ == "__main__":
    main()
