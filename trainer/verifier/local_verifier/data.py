"""Reads the features JSONL written by bench/verifier/extractFeatures.ts (and, later, by the preference store).

File shape: a header line ``{"header": true, "schema": ..., "feature_names": [...]}`` then one line per
candidate ``{"instance_id", "candidate_id", "label" (0/1), "features" (floats in feature_names order)}``.
Every file must carry the same schema: features from another version of features.ts would train a model that
the extension refuses (it checks the schema) or, worse, misreads.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class FeatureSet:
    """Candidates of one or more features files, rows grouped by issue."""

    names: list[str]
    schema: str
    X: np.ndarray  # (n, d) float32
    y: np.ndarray  # (n,) int64, 1 = resolved / chosen
    groups: np.ndarray  # (n,) str, the issue each row belongs to
    candidate_ids: list[str]
    sha256: str  # of the files' bytes, in order


def load(paths: list[Path]) -> FeatureSet:
    """Loads and concatenates features files; raises ValueError on a schema mismatch or a malformed row."""
    names: list[str] | None = None
    schema = ""
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[str] = []
    ids: list[str] = []
    digest = hashlib.sha256()
    for path in paths:
        data = Path(path).read_bytes()
        digest.update(data)
        lines = [line for line in data.decode("utf8").splitlines() if line.strip()]
        header = json.loads(lines[0]) if lines else {}
        if not header.get("header"):
            raise ValueError(f"{path}: the first line must be the header with schema and feature_names")
        if names is None:
            names, schema = list(header["feature_names"]), header["schema"]
        elif header["schema"] != schema or list(header["feature_names"]) != names:
            raise ValueError(f"{path}: feature schema {header['schema']} differs from {schema}; re-extract the features")
        for number, line in enumerate(lines[1:], start=2):
            row = json.loads(line)
            if len(row["features"]) != len(names) or row["label"] not in (0, 1, True, False):
                raise ValueError(f"{path}:{number}: expected {len(names)} features and a 0/1 label")
            rows.append(row["features"])
            labels.append(int(row["label"]))
            groups.append(str(row["instance_id"]))
            ids.append(str(row["candidate_id"]))
    if names is None:
        raise ValueError("no features file given")
    return FeatureSet(
        names=names,
        schema=schema,
        X=np.asarray(rows, dtype=np.float32).reshape(len(rows), len(names)),
        y=np.asarray(labels, dtype=np.int64),
        groups=np.asarray(groups),
        candidate_ids=ids,
        sha256=digest.hexdigest(),
    )


def group_indices(groups: np.ndarray) -> list[np.ndarray]:
    """Row indices of each group, groups in order of first appearance."""
    order: dict[str, list[int]] = {}
    for index, group in enumerate(groups):
        order.setdefault(str(group), []).append(index)
    return [np.asarray(indices) for indices in order.values()]
