"""Acquisition maximisation: score many quasi-random candidates at once, then polish the best few.

1. A small finite space is enumerated and scored exactly (no rounding, no duplicates).
2. Otherwise: a scrambled Sobol design (``scipy.stats.qmc``) plus Gaussian perturbations of the
   best observed points is snapped onto feasible values and scored in one vectorised call.
3. The best ``n_starts`` distinct candidates are polished *together* by one L-BFGS-B run on their
   stacked numeric coordinates (the sum of independent acquisitions has a block gradient, so one
   optimiser call serves every start), with the analytic gradients of :mod:`.acquisition`.
4. Finite columns (int, discrete, stepped double, categorical) are then improved by a neighbour
   search over their feasible values, scoring every variant at once.

The result is a ranked pool, best first, of distinct feasible rows; the caller takes the first
one not already used, so a duplicate is never proposed while something new is left.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import minimize

from .encoding import CAT, CONT, ORD, Encoding

ENUMERATE_UP_TO = 4096
# Local candidates around the best observations: Gaussian steps of these fractions of each
# length-scale (fine steps let the last trials of a run settle precisely on the optimum).
LOCAL_STEPS = (0.02, 0.1, 0.3)


@dataclass(frozen=True)
class Ranked:
    """Feasible rows ordered by acquisition value, best first (keys are the assignments' identities)."""

    rows: np.ndarray
    values: np.ndarray
    keys: tuple[tuple[str, ...], ...]


def enumerate_space(enc: Encoding) -> np.ndarray:
    grids = [c.grid for c in enc.columns]
    return np.array(list(itertools.product(*grids)), dtype=float).reshape(-1, enc.dim)


def _sobol(d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import qmc  # here, not at the top: scipy.stats would cost every katibsim start

    m = max(1, int(np.ceil(np.log2(max(n, 2)))))
    return qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)[:n]


def _unique(enc: Encoding, rows: np.ndarray, values: np.ndarray, exclude: set) -> Ranked:
    order = np.argsort(-values, kind="stable")
    seen: set = set()
    keep_rows, keep_vals, keys = [], [], []
    for i in order:
        if not np.isfinite(values[i]):
            continue
        k = enc.key(rows[i])
        if k in seen or k in exclude:
            continue
        seen.add(k)
        keep_rows.append(rows[i])
        keep_vals.append(values[i])
        keys.append(k)
        if len(keys) >= 64:  # a batch never needs more than a handful
            break
    rows_out = np.array(keep_rows).reshape(-1, enc.dim)
    return Ranked(rows_out, np.array(keep_vals), tuple(keys))


def polish(
    grad_fn: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    starts: np.ndarray,
    movable: np.ndarray,
    *,
    maxiter: int = 100,
    pgtol: float = 1e-6,
) -> np.ndarray:
    """One L-BFGS-B run over every start's movable columns (bounds [0, 1]), all at once."""
    k, d = starts.shape
    idx = np.flatnonzero(movable)
    if idx.size == 0 or k == 0:
        return starts
    base = starts.copy()

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        X = base.copy()
        X[:, idx] = z.reshape(k, idx.size)
        v, g = grad_fn(X)
        ok = np.isfinite(v)
        if not ok.all():
            v = np.where(ok, v, -1e10)
            g = np.where(ok[:, None], g, 0.0)
        return -float(v.sum()), -g[:, idx].ravel()

    res = minimize(
        objective,
        starts[:, idx].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (k * idx.size),
        options={"maxiter": maxiter, "gtol": pgtol},
    )
    out = base.copy()
    out[:, idx] = np.clip(res.x.reshape(k, idx.size), 0.0, 1.0)
    return out


def neighbour_search(enc: Encoding, score: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, values: np.ndarray, rounds: int = 2):
    """Coordinate search on the finite columns: try the feasible values around each row."""
    finite = [j for j, c in enumerate(enc.columns) if c.kind in (ORD, CAT)]
    if not finite:
        return rows, values
    rows = rows.copy()
    values = values.copy()
    for _ in range(rounds):
        changed = False
        for j in finite:
            variants, owner = [], []
            for i, row in enumerate(rows):
                for v in enc.neighbours(row, j):
                    if v == row[j]:
                        continue
                    r = row.copy()
                    r[j] = v
                    variants.append(r)
                    owner.append(i)
            if not variants:
                continue
            V = np.array(variants)
            sv = score(V)
            owner_a = np.array(owner)
            for i in range(len(rows)):
                mine = np.flatnonzero(owner_a == i)
                if mine.size == 0:
                    continue
                b = mine[np.argmax(sv[mine])]
                if sv[b] > values[i] + 1e-12:
                    rows[i] = V[b]
                    values[i] = sv[b]
                    changed = True
        if not changed:
            break
    return rows, values


def maximize(
    enc: Encoding,
    score: Callable[[np.ndarray], np.ndarray],
    score_grad: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None,
    rng: np.random.Generator,
    *,
    exclude: set,
    anchors: np.ndarray | None = None,
    n_candidates: int = 2048,
    n_starts: int = 8,
    lengthscales: np.ndarray | None = None,
) -> Ranked:
    """A ranked pool of new feasible rows, best acquisition first (empty when nothing new is left).

    ``anchors``: rows around which extra local candidates are drawn (the best observations);
    ``score_grad`` None means sampling only (Katib's ``acq_optimizer: sampling``).
    """
    size = enc.size()
    if size is not None and size <= ENUMERATE_UP_TO:
        rows = enumerate_space(enc)
        return _unique(enc, rows, score(rows), exclude)

    cand = enc.snap(_sobol(enc.dim, n_candidates, rng))
    if anchors is not None and len(anchors):
        n_local = max(16, n_candidates // 8)
        pick = anchors[rng.integers(len(anchors), size=n_local)]
        # Perturb on the model's own scale: a step of a fraction of each length-scale.
        ls = np.ones(enc.dim) if lengthscales is None else np.minimum(lengthscales, 1.0)
        frac = rng.choice(LOCAL_STEPS, size=(n_local, 1))
        local = pick + rng.standard_normal((n_local, enc.dim)) * frac * ls
        cat = enc.cat_mask
        local[:, cat] = pick[:, cat]
        cand = np.vstack([cand, enc.snap(local), enc.snap(anchors)])
    values = score(cand)
    if score_grad is None:
        return _unique(enc, cand, values, exclude)

    # Starts: the best distinct candidates (distinct keys, so polishing effort is not duplicated).
    order = np.argsort(-values, kind="stable")
    starts, seen = [], set()
    for i in order:
        if not np.isfinite(values[i]):
            break
        k = enc.key(cand[i])
        if k in seen:
            continue
        seen.add(k)
        starts.append(cand[i])
        if len(starts) >= n_starts:
            break
    if not starts:
        return _unique(enc, cand, values, exclude)
    S = np.array(starts)
    movable = np.array([c.kind in (CONT, ORD) for c in enc.columns])
    P = enc.snap(polish(score_grad, S, movable))
    pv = score(P)
    P, pv = neighbour_search(enc, score, P, pv)
    all_rows = np.vstack([P, cand])
    all_vals = np.concatenate([pv, values])
    return _unique(enc, all_rows, all_vals, exclude)
