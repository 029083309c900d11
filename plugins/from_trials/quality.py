"""Cross-validated quality of a surrogate: how well it predicts trials it has not seen.

K-fold (10 folds, or leave-one-out for fewer than 10 trials) over the usable trials, the fold of
each trial fixed by a seeded permutation, the model refitted on the other folds. Reported: the
Spearman rank correlation of predicted means with the held-out values (does it order points like
the real job does?), RMSE and MAE (in the metric's units), and the share of held-out values inside
the model's central 80% and 95% predictive intervals (calibration: near 0.80 and 0.95 when the
model's uncertainty is honest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .regressors import FITTERS

FOLDS = 10


@dataclass(frozen=True)
class Quality:
    kind: str
    trials: int
    folds: int
    spearman: float
    rmse: float
    mae: float
    coverage80: float
    coverage95: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fold_of(n: int, seed: int = 0, folds: int = FOLDS) -> np.ndarray:
    """Each trial's fold (0..k-1): a seeded permutation cut into k nearly equal parts."""
    k = min(folds, n)
    out = np.empty(n, dtype=int)
    for f, part in enumerate(np.array_split(np.random.default_rng(seed).permutation(n), k)):
        out[part] = f
    return out


def cross_validate(X: np.ndarray, y: np.ndarray, kind: str, *, seed: int = 0, folds: int = FOLDS) -> Quality:
    from scipy.stats import norm, spearmanr

    which = fold_of(len(y), seed, folds)
    mean = np.empty(len(y))
    std = np.empty(len(y))
    for f in np.unique(which):
        test = which == f
        model = FITTERS[kind](X[~test], y[~test], seed)
        mu, std[test] = model.predict(X[test])
        mean[test] = np.clip(mu, y[~test].min(), y[~test].max())  # as Surrogate.predict does
    err = mean - y
    z = np.abs(err) / np.maximum(std, 1e-300)
    rho = spearmanr(mean, y).statistic if np.ptp(y) > 0 and np.ptp(mean) > 0 else 0.0
    return Quality(
        kind=kind, trials=len(y), folds=int(which.max()) + 1,
        spearman=float(rho), rmse=float(np.sqrt(np.mean(err ** 2))), mae=float(np.mean(np.abs(err))),
        coverage80=float(np.mean(z <= norm.ppf(0.90))), coverage95=float(np.mean(z <= norm.ppf(0.975))),
    )
