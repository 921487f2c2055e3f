"""ONNX export of a fitted scorer, and the parity check between sklearn and onnxruntime.

The graph's input is named after the feature schema (e.g. ``features_ae9f8108fddc``) so that the extension can
refuse a model trained on other features; its ``probabilities`` output is (N, 2) float32, column 1 = P(resolved).
"""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

OPSET = {"": 17, "ai.onnx.ml": 3}


def to_onnx(model: BaseEstimator, names: list[str], schema: str, config: str) -> bytes:
    """Serialized ONNX graph of `model` taking a (N, len(names)) float32 input named `schema`."""
    classifier = model.steps[-1][1] if isinstance(model, Pipeline) else model
    graph = convert_sklearn(
        model,
        initial_types=[(schema, FloatTensorType([None, len(names)]))],
        options={id(classifier): {"zipmap": False}},
        target_opset=OPSET,
    )
    graph.doc_string = "EntroPO Agent local verifier: P(candidate patch resolves the issue)"
    graph.graph.name = "local_verifier"  # skl2onnx names graphs with a random id; keep the bytes reproducible
    for key, value in (("schema", schema), ("feature_names", json.dumps(names)), ("config", config)):
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(graph)
    return graph.SerializeToString()


def onnx_scores(model_bytes: bytes, X: np.ndarray) -> np.ndarray:
    """P(resolved) per row computed by onnxruntime on CPU."""
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {session.get_inputs()[0].name: X.astype(np.float32)})
    return probabilities[:, 1].astype(np.float64)


def parity(model_bytes: bytes, expected: np.ndarray, X: np.ndarray) -> float:
    """Largest absolute difference between `expected` (sklearn) and onnxruntime on the rows X."""
    return float(np.max(np.abs(onnx_scores(model_bytes, X) - expected))) if len(X) else 0.0
