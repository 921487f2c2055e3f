"""Instance-grouped cross-validation of top-1 selection, plain and nested (model choice inside the folds).

Per seed, every issue is scored exactly once out of fold; top-1 is computed on those out-of-fold scores. The
spread over seeds shows the split noise; a bootstrap over issues shows the sampling noise of 135 issues.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import FeatureSet, group_indices
from .models import CONFIGS
from .ranking import grouped_splits, pick_value


@dataclass
class CvResult:
    """Top-1 of one selector under repeated grouped CV."""

    per_seed: list[float]  # top-1 over all issues, one per seed
    per_issue: np.ndarray  # (issues,) expected label of the pick, averaged over seeds

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_seed))

    def bootstrap_ci(self, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
        """95% percentile interval of the mean over issues, resampling issues."""
        rng = np.random.default_rng(seed)
        n = len(self.per_issue)
        means = self.per_issue[rng.integers(0, n, size=(draws, n))].mean(axis=1)
        return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def picks(scores: np.ndarray, fs: FeatureSet) -> np.ndarray:
    """Per-issue expected label of the top pick, issues in order of first appearance."""
    return np.asarray([pick_value(scores[idx], fs.y[idx]) for idx in group_indices(fs.groups)])


def subset(fs: FeatureSet, rows: np.ndarray) -> FeatureSet:
    """The rows `rows` of `fs` as a FeatureSet of their own."""
    return FeatureSet(fs.names, fs.schema, fs.X[rows], fs.y[rows], fs.groups[rows],
                      [fs.candidate_ids[i] for i in rows], fs.sha256)


def out_of_fold(fs: FeatureSet, fit_predict, folds: int, seed: int) -> np.ndarray:
    """Scores of every row from a model that never saw the row's issue; fit_predict(train, test_X) -> scores."""
    scores = np.zeros(len(fs.y))
    for train, test in grouped_splits(fs.groups, folds, [seed]):
        scores[test] = fit_predict(subset(fs, train), fs.X[test])
    return scores


def cross_validate(fs: FeatureSet, name: str, folds: int, seeds: list[int]) -> CvResult:
    """Repeated grouped CV of one fixed configuration."""
    def fit_predict(train: FeatureSet, X: np.ndarray) -> np.ndarray:
        return CONFIGS[name].build().fit(train.X, train.y, train.groups).predict(X)
    return _repeat(fs, fit_predict, folds, seeds)


def select(fs: FeatureSet, names: list[str], folds: int, seeds: list[int]) -> tuple[str, dict[str, float]]:
    """The configuration with the best grouped-CV top-1 on `fs` (earlier names win ties), and every mean."""
    means = {name: cross_validate(fs, name, folds, seeds).mean for name in names}
    best = max(names, key=lambda name: (means[name], -names.index(name)))
    return best, means


def nested(fs: FeatureSet, names: list[str], folds: int, seeds: list[int], inner_seeds: list[int]) -> tuple[CvResult, list[str]]:
    """Grouped CV of the whole procedure, model choice included: the honest estimate of the shipped recipe."""
    chosen: list[str] = []

    def fit_predict(train: FeatureSet, X: np.ndarray) -> np.ndarray:
        best, _ = select(train, names, folds, inner_seeds)
        chosen.append(best)
        return CONFIGS[best].build().fit(train.X, train.y, train.groups).predict(X)
    return _repeat(fs, fit_predict, folds, seeds), chosen


def _repeat(fs: FeatureSet, fit_predict, folds: int, seeds: list[int]) -> CvResult:
    runs = [picks(out_of_fold(fs, fit_predict, folds, seed), fs) for seed in seeds]
    return CvResult(per_seed=[float(r.mean()) for r in runs], per_issue=np.mean(runs, axis=0))
