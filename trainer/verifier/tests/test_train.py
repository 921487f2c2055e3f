import json

import pytest

from verifier_synthetic import write_features
import train
from local_verifier.data import load
from local_verifier.export import onnx_scores


def test_train_writes_model_metadata_and_fixture_inputs(tmp_path, features_file):
    extra = write_features(tmp_path / "decisions.jsonl", issues=10, seed=5)
    out = tmp_path / "model"
    code = train.main(["--features", str(features_file), "--extra", str(extra), "--config", "logreg_C1",
                       "--folds", "3", "--seeds", "1", "--out", str(out)])
    assert code == 0
    meta = json.loads((out / "local-verifier.json").read_text())
    assert meta["config"] == "logreg_C1"
    assert meta["issues"] == 50 and meta["training_files"] == ["train.jsonl", "decisions.jsonl"]
    assert meta["parity_max_abs_diff"] < 1e-5
    fs = load([features_file])
    scores = onnx_scores((out / "local-verifier.onnx").read_bytes(), fs.X)
    assert scores.shape == (len(fs.y),)


def test_train_refuses_extra_rows_from_other_features(tmp_path, features_file):
    extra = write_features(tmp_path / "old.jsonl", issues=3, seed=5, schema="features_aaaaaaaaaaaa")
    with pytest.raises(ValueError, match="differs"):
        train.main(["--features", str(features_file), "--extra", str(extra), "--config", "logreg_C1",
                    "--out", str(tmp_path / "m")])


def test_auto_picks_the_best_config_by_cv(tmp_path, features_file):
    out = tmp_path / "auto"
    assert train.main(["--features", str(features_file), "--folds", "3", "--seeds", "1", "--out", str(out)]) == 0
    meta = json.loads((out / "local-verifier.json").read_text())
    assert meta["config"] == max(meta["cv_top1_by_config"], key=meta["cv_top1_by_config"].get)
