"""A GGUF file as the base model: what laptop users serve (llama.cpp, Ollama, LM Studio) is trained on directly.

transformers reads a GGUF checkpoint (`from_pretrained(dir, gguf_file=name)`, with the `gguf` package) and
dequantizes its weights; the tokenizer is rebuilt from the file's vocabulary, which takes minutes on a
slow machine. Both are done once per file: the result is saved as an ordinary Hugging Face directory (bf16
weights, the tokenizer with its chat template) in a cache, and every run after the first loads that.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path


class GGUFBaseError(RuntimeError):
    """The GGUF file could not be read or converted."""


@dataclass(frozen=True)
class GGUFInfo:
    """What the adapter writer needs from the file's metadata."""

    path: str
    architecture: str
    block_count: int
    head_count: int
    head_count_kv: int


def is_gguf(path: str | os.PathLike) -> bool:
    """True for a path to a GGUF file (by its name, and its magic bytes when it exists)."""
    p = Path(path)
    if p.suffix.lower() != ".gguf":
        return False
    if not p.is_file():
        return True  # reported as missing by the loader, with the file name
    with p.open("rb") as f:
        return f.read(4) == b"GGUF"


def default_cache_dir() -> Path:
    """ENTROPO_GGUF_CACHE, else $XDG_CACHE_HOME/entropo/gguf (~/.cache/entropo/gguf)."""
    if os.environ.get("ENTROPO_GGUF_CACHE"):
        return Path(os.environ["ENTROPO_GGUF_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "entropo" / "gguf"


def read_info(path: str | os.PathLike) -> GGUFInfo:
    """The architecture and attention shape from a GGUF file's header (memory-mapped; nothing is loaded)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise GGUFBaseError(f"cannot read {path} as GGUF: {exc}") from exc

    def field(key: str, default=None):
        value = reader.fields.get(key)
        if value is None and default is None:
            raise GGUFBaseError(f"{path} has no {key!r} in its metadata")
        return default if value is None else value.contents()

    arch = str(field("general.architecture"))
    heads = int(field(f"{arch}.attention.head_count"))
    return GGUFInfo(path=str(Path(path).resolve()), architecture=arch, block_count=int(field(f"{arch}.block_count")),
                    head_count=heads, head_count_kv=int(field(f"{arch}.attention.head_count_kv", heads)))


def _key(path: Path) -> str:
    stat = path.stat()
    # Name, size and modification time: instant, and a changed file gets a new conversion
    return hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:24]


def converted_dir(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None, log=print) -> Path:
    """The Hugging Face directory of a GGUF file, converted on first use into the cache.

    The conversion is written to a temporary folder and renamed, so an interrupted one is never used.
    """
    gguf_path = Path(path)
    if not gguf_path.is_file():
        raise GGUFBaseError(f"{gguf_path} does not exist")
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache / _key(gguf_path)
    if (target / "entropo_gguf.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import torch

    log(f"converting {gguf_path.name} to a Hugging Face model in {target} (once per file)")
    work = cache / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.bfloat16)
    except (OSError, ValueError, KeyError) as exc:
        raise GGUFBaseError(f"transformers cannot load {gguf_path}: {exc}") from exc
    # The weights are plain tensors once dequantized; only the marker of their origin forbids saving them
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    work.mkdir(parents=True)
    try:
        tokenizer.save_pretrained(str(work))
        model.save_pretrained(str(work))
        info = read_info(gguf_path)
        (work / "entropo_gguf.json").write_text(json.dumps({**info.__dict__, "size": gguf_path.stat().st_size}, indent=2) + "\n",
                                                encoding="utf-8")
    except BaseException:  # a full disk, a stop (SIGTERM): no half-written model of many GB left in the cache
        shutil.rmtree(work, ignore_errors=True)
        raise
    if target.exists():  # another run converted it meanwhile
        shutil.rmtree(work, ignore_errors=True)
    else:
        work.rename(target)
    return target
