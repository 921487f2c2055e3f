"""Synthetic features files: issues whose resolved candidates are planted in feature 0, the rest is noise."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

NAMES = ["signal", "noise_a", "noise_b", "noise_c"]
SCHEMA = "features_0123456789ab"


def write_features(path: Path, issues: int, seed: int, schema: str = SCHEMA, names: list[str] = NAMES) -> Path:
    rng = np.random.default_rng(seed)
    lines = [json.dumps({"header": True, "schema": schema, "feature_names": names})]
    for i in range(issues):
        count = int(rng.integers(4, 9))
        labels = np.zeros(count, dtype=int)
        labels[: int(rng.integers(1, count))] = 1
        rng.shuffle(labels)
        for j, label in enumerate(labels):
            features = rng.normal(size=len(names)).astype(np.float32)
            features[0] = np.float32(label * 1.5 + rng.normal(scale=0.5))
            lines.append(json.dumps({"instance_id": f"{path.stem}-{i}", "candidate_id": f"c{j}", "label": int(label),
                                     "features": [float(v) for v in features]}))
    path.write_text("\n".join(lines) + "\n")
    return path
