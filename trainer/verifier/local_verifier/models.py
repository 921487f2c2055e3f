"""The model families the trainer chooses from, each behind one small interface.

Every scorer fits on (X, y, groups), predicts P(resolved) per row, and hands skl2onnx one plain sklearn
estimator. The rankers (pairwise, listwise) are linear models whose weights are folded, together with the
feature standardization and a Platt calibration, into a single LogisticRegression: tiny, exact to export.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .data import group_indices


class Pointwise:
    """A classifier of single candidates: P(resolved | features), groups ignored."""

    def __init__(self, make: Callable[[], BaseEstimator]):
        self._make = make
        self.model: BaseEstimator | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> "Pointwise":
        with warnings.catch_warnings():
            # The MLP's iteration cap is deliberate (it overfits 135 issues long before converging).
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model = self._make().fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]

    def estimator(self) -> BaseEstimator:
        return self.model


class LinearRanker:
    """A linear scorer trained on within-issue comparisons, then calibrated to a probability.

    objective "pairwise": logistic loss on x_pos - x_neg for every (resolved, unresolved) pair of an issue,
    each issue weighted equally; C is the inverse L2 strength (sklearn's convention).
    objective "listwise": conditional logit, L(w) = mean over issues of -(1/|P|) sum_{i in P} log softmax(Xw)_i
    + strength/2 |w|^2, where P are the issue's resolved candidates (issues with all or none resolved carry
    no ranking information and are skipped).
    The ranking score s = z.w (z standardized) is mapped to a probability by Platt scaling sigmoid(a s + b).
    """

    def __init__(self, objective: str, strength: float):
        self.objective = objective
        self.strength = strength
        self.model: LogisticRegression | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> "LinearRanker":
        X = X.astype(np.float64)
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale < 1e-9] = 1.0
        Z = (X - mean) / scale
        ranked = [idx for idx in group_indices(groups) if 0 < y[idx].sum() < len(idx)]
        w = self._pairwise(Z, y, ranked) if self.objective == "pairwise" else self._listwise(Z, y, ranked)
        platt = LogisticRegression(C=1e4).fit((Z @ w)[:, None], y) if len(set(y)) == 2 else None
        a, b = (platt.coef_[0, 0], platt.intercept_[0]) if platt is not None else (1.0, 0.0)
        self.model = linear_model(a * w / scale, b - a * float(w @ (mean / scale)))
        return self

    def _pairwise(self, Z: np.ndarray, y: np.ndarray, ranked: list[np.ndarray]) -> np.ndarray:
        diffs, weights = [], []
        for idx in ranked:
            pos, neg = idx[y[idx] == 1], idx[y[idx] == 0]
            d = (Z[pos][:, None, :] - Z[neg][None, :, :]).reshape(-1, Z.shape[1])  # (|P||N|, d)
            diffs.append(d)
            weights.append(np.full(len(d), 1.0 / len(d)))
        if not diffs:
            return np.zeros(Z.shape[1])
        D = np.concatenate(diffs + [-d for d in diffs])
        labels = np.concatenate([np.ones(len(D) // 2), np.zeros(len(D) // 2)])
        sample_weight = np.concatenate(weights + weights)
        fit = LogisticRegression(C=self.strength, fit_intercept=False).fit(D, labels, sample_weight=sample_weight)
        return fit.coef_[0]

    def _listwise(self, Z: np.ndarray, y: np.ndarray, ranked: list[np.ndarray]) -> np.ndarray:
        if not ranked:
            return np.zeros(Z.shape[1])
        # Issues padded to one (G, K, d) block; padded slots get -inf scores, so softmax ignores them.
        width = max(len(idx) for idx in ranked)
        block = np.zeros((len(ranked), width, Z.shape[1]))  # (G, K, d)
        real = np.zeros((len(ranked), width), dtype=bool)  # (G, K)
        target = np.zeros((len(ranked), width))  # (G, K), 1/|P| on resolved slots
        for g, idx in enumerate(ranked):
            block[g, : len(idx)] = Z[idx]
            real[g, : len(idx)] = True
            target[g, : len(idx)] = y[idx] / y[idx].sum()

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            s = np.where(real, block @ w, -np.inf)  # (G, K)
            log_norm = logsumexp(s, axis=1, keepdims=True)  # (G, 1)
            softmax = np.exp(s - log_norm)  # (G, K), 0 on padding
            value = float(np.mean(log_norm[:, 0] - np.sum(np.where(real, s, 0.0) * target, axis=1)))
            dlds = (softmax - target) / len(ranked)  # (G, K)
            grad = np.einsum("gk,gkd->d", dlds, block)
            return value + 0.5 * self.strength * w @ w, grad + self.strength * w

        return minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B").x

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]

    def estimator(self) -> BaseEstimator:
        return self.model


def linear_model(coef: np.ndarray, intercept: float) -> LogisticRegression:
    """A fitted-looking LogisticRegression computing sigmoid(x.coef + intercept), for prediction and export."""
    model = LogisticRegression()
    model.coef_ = np.asarray(coef, dtype=np.float64)[None, :]
    model.intercept_ = np.asarray([intercept], dtype=np.float64)
    model.classes_ = np.asarray([0, 1])
    model.n_features_in_ = model.coef_.shape[1]
    return model


@dataclass(frozen=True)
class Config:
    """A named model family with its settings."""

    name: str
    build: Callable[[], Pointwise | LinearRanker] = field(compare=False)


def _logreg(C: float) -> Callable[[], Pointwise]:
    return lambda: Pointwise(lambda: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000)))


def _gbm(depth: int, trees: int) -> Callable[[], Pointwise]:
    return lambda: Pointwise(lambda: GradientBoostingClassifier(
        n_estimators=trees, max_depth=depth, learning_rate=0.05, subsample=0.8, random_state=0))


def _mlp(hidden: int, alpha: float) -> Callable[[], Pointwise]:
    return lambda: Pointwise(lambda: make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=300, random_state=0)))


CONFIGS: dict[str, Config] = {c.name: c for c in [
    *(Config(f"logreg_C{C:g}", _logreg(C)) for C in (0.01, 0.1, 1.0)),
    *(Config(f"pairwise_C{C:g}", lambda C=C: LinearRanker("pairwise", C)) for C in (0.01, 1.0)),
    *(Config(f"listwise_l2_{s:g}", lambda s=s: LinearRanker("listwise", s)) for s in (0.1, 1.0)),
    Config("gbm_d2_100", _gbm(2, 100)),
    Config("mlp_16", _mlp(16, 1.0)),
]}
