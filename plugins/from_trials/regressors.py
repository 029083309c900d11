"""The two candidate models of the objective's mean and noise, each with a JSON form (no pickle).

* ``gp``: scikit-learn's Gaussian process, kernel ``C * Matern(nu=2.5, one length scale per input
  column) + White`` on inputs in the unit cube, targets standardised. The white-noise level is the
  trial-to-trial noise. The JSON form keeps the fitted hyperparameters and the training rows;
  loading solves the GP's linear system again with those hyperparameters (no optimisation), which
  gives the same predictions.
* ``forest``: scikit-learn's random forest; the JSON form keeps every tree's node arrays, and
  prediction walks them here (the fitted estimator itself is never stored). The predictive spread
  is the spread of the trees plus the out-of-bag residual variance (the noise).

``predict(X)`` returns the mean and the standard deviation of a *new observation* at each row
(noise included), which is what held-out trials are compared with.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np


@dataclass(frozen=True)
class GaussianProcess:
    kind = "gp"
    X: np.ndarray
    y: np.ndarray
    constant: float
    length_scale: tuple[float, ...]
    noise_level: float
    nu: float = 2.5

    def __post_init__(self) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor

        gp = GaussianProcessRegressor(kernel=self._kernel(), optimizer=None, normalize_y=True)
        gp.fit(self.X, self.y)
        object.__setattr__(self, "_gp", gp)

    def _kernel(self):
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        return (ConstantKernel(self.constant, "fixed")
                * Matern(np.array(self.length_scale), "fixed", nu=self.nu)
                + WhiteKernel(self.noise_level, "fixed"))

    @property
    def noise_sd(self) -> float:
        """The trial-to-trial noise in the metric's units."""
        return float(np.sqrt(self.noise_level) * self._gp._y_train_std)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self._gp.predict(np.asarray(X, dtype=float), return_std=True)
        return np.asarray(mean, dtype=float), np.asarray(std, dtype=float)

    def mean(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self._gp.predict(np.asarray(X, dtype=float)), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "constant": self.constant, "length_scale": list(self.length_scale),
                "noise_level": self.noise_level, "nu": self.nu,
                "X": self.X.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GaussianProcess":
        return cls(np.asarray(d["X"], dtype=float), np.asarray(d["y"], dtype=float), float(d["constant"]),
                   tuple(float(v) for v in d["length_scale"]), float(d["noise_level"]), float(d.get("nu", 2.5)))


def fit_gp(X: np.ndarray, y: np.ndarray, seed: int = 0) -> GaussianProcess:
    """Fit the kernel's hyperparameters by maximum marginal likelihood (3 restarts, seeded)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    d = X.shape[1]
    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.ones(d), (1e-2, 1e2), nu=2.5)
              + WhiteKernel(1e-2, (1e-6, 1e1)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(X, y)
    k = gp.kernel_
    return GaussianProcess(np.array(X, dtype=float), np.array(y, dtype=float), float(k.k1.k1.constant_value),
                           tuple(float(v) for v in np.atleast_1d(k.k1.k2.length_scale)), float(k.k2.noise_level))


@dataclass(frozen=True)
class Tree:
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray

    def predict(self, X: np.ndarray) -> np.ndarray:
        node = np.zeros(len(X), dtype=int)
        rows = np.arange(len(X))
        while True:
            left = self.left[node]
            inner = left >= 0
            if not inner.any():
                return self.value[node]
            go_left = X[rows, np.maximum(self.feature[node], 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, left, self.right[node]), node)

    def to_dict(self) -> dict[str, Any]:
        return {"left": self.left.tolist(), "right": self.right.tolist(), "feature": self.feature.tolist(),
                "threshold": self.threshold.tolist(), "value": self.value.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Tree":
        return cls(np.asarray(d["left"], dtype=int), np.asarray(d["right"], dtype=int),
                   np.asarray(d["feature"], dtype=int), np.asarray(d["threshold"], dtype=float),
                   np.asarray(d["value"], dtype=float))


@dataclass(frozen=True)
class Forest:
    kind = "forest"
    trees: tuple[Tree, ...]
    noise_variance: float

    @property
    def noise_sd(self) -> float:
        return float(np.sqrt(self.noise_variance))

    def _all(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.stack([t.predict(X) for t in self.trees])

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self._all(X)
        return p.mean(axis=0), np.sqrt(p.var(axis=0) + self.noise_variance)

    def mean(self, X: np.ndarray) -> np.ndarray:
        return self._all(X).mean(axis=0)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "noise_variance": self.noise_variance, "trees": [t.to_dict() for t in self.trees]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Forest":
        return cls(tuple(Tree.from_dict(t) for t in d["trees"]), float(d["noise_variance"]))


#: Trees of the forest and the smallest leaf: enough trees for a stable spread at a model file of
#: a few hundred kilobytes for a hundred trials.
FOREST_TREES = 100
FOREST_MIN_LEAF = 3


def fit_forest(X: np.ndarray, y: np.ndarray, seed: int = 0) -> Forest:
    """Fit the forest (bootstrap, seeded); noise = the mean squared out-of-bag residual."""
    from sklearn.ensemble import RandomForestRegressor

    rf = RandomForestRegressor(n_estimators=FOREST_TREES, min_samples_leaf=FOREST_MIN_LEAF,
                               oob_score=len(y) >= 5, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "some inputs do not have OOB scores" on tiny tables
        rf.fit(X, y)
    trees = tuple(
        Tree(t.children_left.astype(int).copy(), t.children_right.astype(int).copy(), t.feature.astype(int).copy(),
             t.threshold.astype(float).copy(), t.value[:, 0, 0].astype(float).copy())
        for t in (e.tree_ for e in rf.estimators_)
    )
    if len(y) >= 5:
        oob = np.asarray(rf.oob_prediction_, dtype=float)
        ok = np.isfinite(oob)
        noise = float(np.mean((y[ok] - oob[ok]) ** 2)) if ok.any() else float(np.var(y))
    else:
        noise = float(np.var(y))
    return Forest(trees, max(noise, 1e-12))


FITTERS: dict[str, Callable[[np.ndarray, np.ndarray, int], Any]] = {"gp": fit_gp, "forest": fit_forest}
LOADERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {"gp": GaussianProcess.from_dict, "forest": Forest.from_dict}
