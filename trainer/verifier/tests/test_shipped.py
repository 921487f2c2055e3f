"""The shipped model against the fixture train.py wrote with it: onnxruntime (Python) reproduces sklearn's scores."""
import json
from pathlib import Path

import numpy as np

from local_verifier.export import onnx_scores

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "models" / "local-verifier" / "local-verifier.onnx"
META = ROOT / "models" / "local-verifier" / "local-verifier.json"
FIXTURE = ROOT / "test" / "core" / "verify" / "local" / "fixtures" / "parity.json"


def test_shipped_model_matches_its_fixture_and_metadata():
    fixture = json.loads(FIXTURE.read_text())
    meta = json.loads(META.read_text())
    assert fixture["schema"] == meta["schema"]
    assert MODEL.stat().st_size == meta["onnx_bytes"] < 1_000_000
    assert meta["parity_max_abs_diff"] < 1e-5
    candidates = [c for issue in fixture["instances"] for c in issue["candidates"]]
    X = np.asarray([c["features"] for c in candidates], dtype=np.float32)
    assert X.shape == (len(candidates), len(meta["feature_names"]))
    scores = onnx_scores(MODEL.read_bytes(), X)
    expected = np.asarray([c["python_score"] for c in candidates])
    assert np.max(np.abs(scores - expected)) < 1e-5
    assert len(set(np.round(scores, 6))) > 1
