import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_scoring_writes_nothing_in_the_home_cache_or_temporary_folder(tmp_path):
    """onnxruntime's telemetry (device id, event database, log) stays off: the package turns it off on import."""
    shipped = Path(__file__).resolve().parents[3] / "models" / "local-verifier" / "local-verifier.onnx"
    folders = {name: tmp_path / name for name in ("home", "cache", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in {"CI", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TF_BUILD", "ORT_RUNNING_UNIT_TESTS", "ORT_DISABLE_TELEMETRY"}}
    env.update(HOME=str(folders["home"]), XDG_CACHE_HOME=str(folders["cache"]), TMPDIR=str(folders["tmp"]))
    script = (
        "import numpy as np\n"
        "from local_verifier.export import onnx_scores\n"
        f"model = open({str(shipped)!r}, 'rb').read()\n"
        "import onnx\n"
        "width = onnx.load_from_string(model).graph.input[0].type.tensor_type.shape.dim[1].dim_value\n"
        "print(onnx_scores(model, np.zeros((2, width), dtype=np.float32)).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2,)"
    assert {name: sorted(p.name for p in folder.rglob("*")) for name, folder in folders.items()} == {"home": [], "cache": [], "tmp": []}
