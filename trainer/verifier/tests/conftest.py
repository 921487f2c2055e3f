"""Fixtures of the local verifier trainer's tests; runnable from trainer/verifier or from the repository root."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import local_verifier  # noqa: E402,F401  (first: it turns onnxruntime's telemetry off before onnxruntime loads)

try:
    import onnxruntime  # noqa: F401
    import skl2onnx  # noqa: F401
    import sklearn  # noqa: F401
except ImportError as error:  # a clear message instead of a collection error in every module
    raise ImportError(
        f"{error}: the local verifier's tests need trainer/verifier/requirements.txt; "
        "run trainer/verifier/setup.sh and use the python it prints"
    ) from error

from verifier_synthetic import write_features  # noqa: E402


@pytest.fixture
def features_file(tmp_path: Path) -> Path:
    return write_features(tmp_path / "train.jsonl", issues=40, seed=0)
