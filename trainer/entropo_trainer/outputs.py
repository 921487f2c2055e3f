"""What a training run writes in --out, and what it may replace there (no torch: the command line checks it)."""

from __future__ import annotations

import shutil
from pathlib import Path

#: What a run writes in OUT. An earlier run's are replaced only once this one has saved all of its own.
OUTPUTS = ("adapter", "merged", "adapter.gguf", "Modelfile", "train_config.json")
#: Where a run saves before its outputs take the place of an earlier run's (a stop meanwhile leaves those).
STAGING = ".entropo-saving"


def foreign_outputs(out: Path) -> list[str]:
    """What in `out` has the name of an output but is not an earlier run's (no train_config.json beside it)."""
    if not out.is_dir() or (out / "train_config.json").is_file():
        return []
    return [name for name in OUTPUTS if (out / name).exists() or (out / name).is_symlink()]


def remove_output(path: Path) -> None:
    """Removes a file, link or folder of an earlier run; nothing when it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
