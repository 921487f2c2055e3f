"""Choosing, fitting and writing the shipped model, and the parity fixture the TypeScript tests read."""
from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .cv import select
from .data import FeatureSet, group_indices
from .export import onnx_scores, parity, to_onnx
from .models import CONFIGS

PARITY_TOLERANCE = 1e-5
MODEL_FILE = "local-verifier.onnx"
META_FILE = "local-verifier.json"


def fit(fs: FeatureSet, config: str, folds: int, seeds: list[int]):
    """(chosen config, scorer fitted on all rows, CV top-1 mean per config tried); config "auto" picks by CV."""
    names = list(CONFIGS) if config == "auto" else [config]
    if config != "auto" and config not in CONFIGS:
        raise ValueError(f"unknown config {config}; choose one of: auto, {', '.join(CONFIGS)}")
    best, means = select(fs, names, folds, seeds)
    return best, CONFIGS[best].build().fit(fs.X, fs.y, fs.groups), means


def write_model(out: Path, fs: FeatureSet, config: str, scorer, means: dict[str, float], sources: list[str]) -> dict:
    """Writes the ONNX model and its metadata JSON; raises if onnxruntime disagrees with sklearn beyond 1e-5."""
    model_bytes = to_onnx(scorer.estimator(), fs.names, fs.schema, config)
    expected = scorer.predict(fs.X)
    diff = parity(model_bytes, expected, fs.X)
    if not diff < PARITY_TOLERANCE:
        raise RuntimeError(f"onnxruntime differs from sklearn by {diff:.3g} (limit {PARITY_TOLERANCE}); not writing the model")
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_FILE).write_bytes(model_bytes)
    meta = {
        "schema": fs.schema,
        "feature_names": fs.names,
        "config": config,
        "cv_top1_by_config": {k: round(v, 4) for k, v in means.items()},
        "rows": int(len(fs.y)),
        "issues": len(group_indices(fs.groups)),
        "positives": int(fs.y.sum()),
        "training_files": sources,
        "training_sha256": fs.sha256,
        "parity_max_abs_diff": diff,
        "onnx_bytes": len(model_bytes),
        "packages": {p: version(p) for p in ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy")},
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def write_fixture(path: Path, fs: FeatureSet, scorer, model_bytes: bytes, raw_file: Path, count: int = 2) -> list[str]:
    """Writes a few small issues (text, patches, features, sklearn and onnxruntime scores) for the TS parity test."""
    raw = {}
    for line in raw_file.read_text().splitlines():
        if line.strip():
            issue = json.loads(line)
            raw[issue["instance_id"]] = issue
    chosen = []
    for idx in group_indices(fs.groups):
        issue = raw.get(str(fs.groups[idx[0]]))
        small = issue is not None and sum(len(c["patch"]) for c in issue["candidates"]) < 6000
        if small and 0 < fs.y[idx].sum() < len(idx) and len(idx) >= 4:
            chosen.append(idx)
        if len(chosen) == count:
            break
    rows = np.concatenate(chosen)
    python_scores = scorer.predict(fs.X[rows])
    ort_scores = onnx_scores(model_bytes, fs.X[rows])
    by_row = {int(r): (float(p), float(o)) for r, p, o in zip(rows, python_scores, ort_scores)}
    instances = []
    for idx in chosen:
        issue = raw[str(fs.groups[idx[0]])]
        patches = {c["id"]: c["patch"] for c in issue["candidates"]}
        instances.append({
            "instance_id": issue["instance_id"],
            "problem_statement": issue["problem_statement"],
            "candidates": [{
                "id": fs.candidate_ids[r],
                "patch": patches[fs.candidate_ids[r]],
                "features": [float(v) for v in fs.X[r]],
                "python_score": by_row[int(r)][0],
                "onnx_score": by_row[int(r)][1],
            } for r in idx],
        })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema": fs.schema, "instances": instances}, indent=1) + "\n")
    return [i["instance_id"] for i in instances]
