import numpy as np
import pytest

from local_verifier.data import load
from local_verifier.models import CONFIGS
from local_verifier.ranking import top1


@pytest.mark.parametrize("name", ["logreg_C1", "pairwise_C1", "listwise_l2_0.1", "gbm_d2_100", "mlp_16"])
def test_every_family_finds_the_planted_signal(features_file, name):
    fs = load([features_file])
    scorer = CONFIGS[name].build().fit(fs.X, fs.y, fs.groups)
    scores = scorer.predict(fs.X)
    assert scores.shape == (len(fs.y),)
    assert np.all((scores >= 0) & (scores <= 1))
    assert top1(scores, fs.y, fs.groups) >= 0.9  # random would be about 0.5 here


@pytest.mark.parametrize("name", ["pairwise_C1", "listwise_l2_0.1"])
def test_rankers_weigh_the_signal_most_and_are_calibrated(features_file, name):
    fs = load([features_file])
    model = CONFIGS[name].build().fit(fs.X, fs.y, fs.groups).estimator()
    weights = np.abs(model.coef_[0])
    assert weights.argmax() == 0 and model.coef_[0, 0] > 0
    # Platt scaling: the mean predicted probability is close to the base rate.
    assert abs(model.predict_proba(fs.X)[:, 1].mean() - fs.y.mean()) < 0.05
