import pytest

from verifier_synthetic import write_features
from local_verifier.data import group_indices, load


def test_load_concatenates_files_with_the_same_schema(tmp_path):
    a = write_features(tmp_path / "a.jsonl", issues=3, seed=1)
    b = write_features(tmp_path / "b.jsonl", issues=2, seed=2)
    fs = load([a, b])
    assert fs.X.shape[1] == 4 and fs.X.dtype.name == "float32"
    assert len(group_indices(fs.groups)) == 5
    assert len(fs.y) == len(fs.candidate_ids) == fs.X.shape[0]
    assert set(fs.y.tolist()) == {0, 1}


def test_load_refuses_another_schema(tmp_path):
    a = write_features(tmp_path / "a.jsonl", issues=2, seed=1)
    b = write_features(tmp_path / "b.jsonl", issues=2, seed=2, schema="features_ffffffffffff")
    with pytest.raises(ValueError, match="re-extract"):
        load([a, b])


def test_load_refuses_a_short_row(tmp_path):
    a = write_features(tmp_path / "a.jsonl", issues=1, seed=1)
    a.write_text(a.read_text() + '{"instance_id": "x", "candidate_id": "c0", "label": 1, "features": [1.0]}\n')
    with pytest.raises(ValueError, match="expected 4 features"):
        load([a])
