"""Top-1 selection metrics and instance-grouped cross-validation splits.

Top-1 of a scorer over issues = mean over issues of the expected label of its pick, where ties at the top score
are broken uniformly at random (so identical candidates give the exact expectation, not a lucky draw).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import GroupKFold

from .data import group_indices

TIE_TOLERANCE = 1e-9


def top1(scores: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """Expected resolved rate of picking the highest-scoring candidate of each issue."""
    picks = [pick_value(scores[idx], y[idx]) for idx in group_indices(groups)]
    return float(np.mean(picks))


def pick_value(scores: np.ndarray, labels: np.ndarray) -> float:
    """Expected label of the top-scoring candidate(s) of one issue."""
    best = scores >= scores.max() - TIE_TOLERANCE
    return float(labels[best].mean())


def oracle(y: np.ndarray, groups: np.ndarray) -> float:
    """Share of issues with at least one resolved candidate: the best any selector can do."""
    return float(np.mean([y[idx].max() for idx in group_indices(groups)]))


def random_pick(y: np.ndarray, groups: np.ndarray) -> float:
    """Expected resolved rate of a uniformly random pick per issue."""
    return float(np.mean([y[idx].mean() for idx in group_indices(groups)]))


def grouped_splits(groups: np.ndarray, folds: int, seeds: list[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train, test) row indices of `folds`-fold GroupKFold, reshuffled once per seed; no issue is on both sides."""
    for seed in seeds:
        splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        yield from splitter.split(np.zeros(len(groups)), groups=groups)
