"""EntroPO trainer: entropy-regularized multi-turn DPO/KTO (arXiv 2509.12434) and an LLM-judge trainer, with LoRA."""

__version__ = "0.1.0"
