"""Parameters <-> the GP's input space: one column per parameter, numbers in the unit cube.

Column kinds:

- ``cont``: a double without step. Position in [0, 1] on the linear scale, or on the log scale for
  ``logUniform`` / ``logNormal`` (the model should see a learning rate in decades).
- ``ord``: an ordered finite set (int, discrete, double with step). Same position rule as ``cont``;
  the feasible positions are listed in ``grid`` so a continuous answer is snapped to a real value
  and never rounded into a duplicate behind the optimiser's back (snapping happens *before* the
  acquisition is scored).
- ``cat``: a categorical; the column holds the category index and the kernel uses a Hamming
  (same / different) distance on it (see :mod:`.gp`).

Unlike Katib's skopt service (docs/katib-behaviour.md §5.5), doubles are *not* all forced to log-uniform: the
distribution field is honoured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy.special import ndtr, ndtri

from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace, Value, parse_number

CONT, ORD, CAT = "cont", "ord", "cat"


@dataclass(frozen=True)
class Column:
    """How one parameter is encoded."""

    param: Parameter
    kind: str
    lo: float  # transformed (maybe log) lower bound
    hi: float
    grid: np.ndarray  # sorted feasible unit positions (ord); category indices (cat); empty (cont)
    values: tuple[Value, ...]  # the feasible value at each grid position (ord, cat)

    @property
    def size(self) -> int | None:
        return None if self.kind == CONT else len(self.values)


def _is_log(p: Parameter) -> bool:
    return p.is_log and p.bounds[0] > 0


def _t(p: Parameter, x: float) -> float:
    return math.log(x) if _is_log(p) else x


def _tinv(p: Parameter, y: float) -> float:
    return math.exp(y) if _is_log(p) else y


def _column(p: Parameter) -> Column:
    if p.type == ParameterType.CATEGORICAL:
        return Column(p, CAT, 0.0, float(len(p.values) - 1), np.arange(len(p.values), dtype=float), tuple(p.values))
    lo, hi = p.bounds
    tlo, thi = _t(p, lo), _t(p, hi)
    if p.type == ParameterType.DOUBLE and p.step is None:
        return Column(p, CONT, tlo, thi, np.empty(0), ())
    if p.type == ParameterType.DISCRETE:
        vals = sorted({parse_number(s) for s in p.values}, key=float)
    else:
        vals = p.grid_values() if (p.type == ParameterType.DOUBLE or p.step) else list(range(int(lo), int(hi) + 1))
    span = thi - tlo
    grid = np.array([0.5 if span == 0 else (_t(p, float(v)) - tlo) / span for v in vals], dtype=float)
    order = np.argsort(grid, kind="stable")
    return Column(p, ORD, tlo, thi, grid[order], tuple(vals[i] for i in order))


@dataclass(frozen=True)
class Encoding:
    """The encoding of a whole search space."""

    space: SearchSpace
    columns: tuple[Column, ...]

    @classmethod
    def of(cls, space: SearchSpace) -> "Encoding":
        return cls(space, tuple(_column(p) for p in space.parameters))

    @property
    def dim(self) -> int:
        return len(self.columns)

    @property
    def cat_mask(self) -> np.ndarray:
        return np.array([c.kind == CAT for c in self.columns], dtype=bool)

    @property
    def cont_mask(self) -> np.ndarray:
        """Columns the gradient optimiser may move (ord columns are relaxed, then snapped)."""
        return np.array([c.kind != CAT for c in self.columns], dtype=bool)

    @property
    def is_finite(self) -> bool:
        return all(c.kind != CONT for c in self.columns)

    def size(self) -> int | None:
        total = 1
        for c in self.columns:
            if c.size is None:
                return None
            total *= c.size
        return total

    # -- value <-> column ------------------------------------------------------------------------
    def encode(self, assignment: Mapping[str, Value]) -> np.ndarray:
        """One assignment -> a row (raises KeyError/ValueError for a value outside the space)."""
        row = np.empty(self.dim)
        for j, c in enumerate(self.columns):
            v = assignment[c.param.name]
            if c.kind == CAT:
                row[j] = float(c.values.index(str(v)))
                continue
            span = c.hi - c.lo
            x = _t(c.param, float(v))
            row[j] = 0.5 if span == 0 else (x - c.lo) / span
        return row

    def decode(self, row: np.ndarray) -> dict[str, Value]:
        """A (snapped) row -> an assignment of feasible, canonically typed values."""
        out: dict[str, Value] = {}
        for j, c in enumerate(self.columns):
            u = float(row[j])
            if c.kind == CAT:
                out[c.param.name] = c.values[int(round(min(max(u, 0.0), len(c.values) - 1)))]
            elif c.kind == ORD:
                out[c.param.name] = c.param.coerce(c.values[_nearest(c.grid, u)])
            else:
                u = min(1.0, max(0.0, u))
                x = _tinv(c.param, c.lo + u * (c.hi - c.lo))
                lo, hi = c.param.bounds
                out[c.param.name] = float(min(hi, max(lo, x)))
        return out

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Rows moved onto feasible positions (ord: nearest grid point; cat: nearest index; clip)."""
        X = np.clip(np.array(X, dtype=float, copy=True), 0.0, None)
        for j, c in enumerate(self.columns):
            if c.kind == CONT:
                np.clip(X[:, j], 0.0, 1.0, out=X[:, j])
            elif c.kind == CAT:
                X[:, j] = np.clip(np.rint(X[:, j]), 0, len(c.values) - 1)
            else:
                X[:, j] = c.grid[_nearest_many(c.grid, X[:, j])]
        return X

    def key(self, row: np.ndarray) -> tuple[str, ...]:
        return self.space.key(self.decode(row))

    # -- designs -----------------------------------------------------------------------------------
    def from_uniform(self, U: np.ndarray) -> np.ndarray:
        """Points of [0,1)^d (e.g. Sobol) -> snapped rows, honouring each parameter's distribution.

        Finite columns pick a value uniformly (each feasible value equally likely); ``normal`` and
        ``logNormal`` doubles draw from Katib's normal (mu = mid, sigma = range/6) truncated to the
        bounds, through the inverse CDF so a low-discrepancy design stays low-discrepancy.
        """
        X = np.empty((U.shape[0], self.dim))
        for j, c in enumerate(self.columns):
            u = np.clip(U[:, j], 0.0, np.nextafter(1.0, 0.0))
            if c.kind == CAT:
                X[:, j] = np.floor(u * len(c.values))
            elif c.kind == ORD:
                X[:, j] = c.grid[np.floor(u * len(c.grid)).astype(int)]
            elif c.param.distribution in (Distribution.NORMAL, Distribution.LOG_NORMAL):
                # Truncated normal in the (maybe log) unit position: mean 0.5, sd 1/6.
                a, b = ndtr(-3.0), ndtr(3.0)
                X[:, j] = np.clip(0.5 + ndtri(a + u * (b - a)) / 6.0, 0.0, 1.0)
            else:
                X[:, j] = u
        return X

    def neighbours(self, row: np.ndarray, j: int, radius: int = 2, exhaustive_up_to: int = 16) -> np.ndarray:
        """Alternative values of finite column ``j`` around ``row`` (all of them when few)."""
        c = self.columns[j]
        n = len(c.grid)
        if n <= exhaustive_up_to:
            idx = np.arange(n)
        else:
            here = _nearest(c.grid, float(row[j])) if c.kind == ORD else int(row[j])
            idx = np.arange(max(0, here - radius), min(n, here + radius + 1))
        return c.grid[idx]


def _nearest(grid: np.ndarray, u: float) -> int:
    return int(_nearest_many(grid, np.array([u]))[0])


def _nearest_many(grid: np.ndarray, u: np.ndarray) -> np.ndarray:
    i = np.clip(np.searchsorted(grid, u), 1, max(1, len(grid) - 1))
    if len(grid) == 1:
        return np.zeros(len(u), dtype=int)
    left = grid[i - 1]
    right = grid[i]
    return np.where(np.abs(u - left) <= np.abs(right - u), i - 1, i)
