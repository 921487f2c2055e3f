import json

import onnx
import pytest

from local_verifier.data import load
from local_verifier.export import onnx_scores, parity, to_onnx
from local_verifier.models import CONFIGS


@pytest.mark.parametrize("name", ["logreg_C0.1", "pairwise_C0.01", "listwise_l2_0.1", "gbm_d2_100", "mlp_16"])
def test_onnx_matches_sklearn_on_every_row(features_file, name):
    fs = load([features_file])
    scorer = CONFIGS[name].build().fit(fs.X, fs.y, fs.groups)
    model_bytes = to_onnx(scorer.estimator(), fs.names, fs.schema, name)
    assert parity(model_bytes, scorer.predict(fs.X), fs.X) < 1e-5
    assert onnx_scores(model_bytes, fs.X).shape == (len(fs.y),)
    assert len(model_bytes) < 1_000_000


def test_graph_is_named_after_the_schema_and_carries_the_feature_names(features_file):
    fs = load([features_file])
    scorer = CONFIGS["logreg_C1"].build().fit(fs.X, fs.y, fs.groups)
    graph = onnx.load_from_string(to_onnx(scorer.estimator(), fs.names, fs.schema, "logreg_C1"))
    assert [i.name for i in graph.graph.input] == [fs.schema]
    assert "probabilities" in [o.name for o in graph.graph.output]
    props = {p.key: p.value for p in graph.metadata_props}
    assert json.loads(props["feature_names"]) == fs.names and props["config"] == "logreg_C1"
