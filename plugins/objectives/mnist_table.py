"""The ``mnist-tfjob`` training table: reading it and interpolating it in (log learning rate, batch size).

The table (``plugins/data/mnist_tfjob.csv``, provenance in ``mnist_tfjob.json`` next to it) holds
one row per real training run and epoch; see :mod:`katibsim_plugins.objectives.build_mnist_table`.
Interpolation is bilinear in (log learning rate, batch size), exact at grid points, and clamps
points outside the grid to its edge.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from katibsim.errors import FieldError, InputError, SpecError

REQUIRED_COLUMNS = ("learning_rate", "batch_size", "seed", "epoch", "accuracy", "loss", "cpu_seconds")


@dataclass(frozen=True, eq=False)
class TrainingTable:
    """Per-epoch results on a full grid; arrays are indexed (lr, batch size, seed, epoch - 1)."""

    learning_rates: np.ndarray
    batch_sizes: np.ndarray
    seeds: tuple[int, ...]
    accuracy: np.ndarray
    loss: np.ndarray
    cpu_seconds: np.ndarray
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return int(self.accuracy.shape[-1])

    def seed_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean over seeds: (L, B, S, E) -> (L, B, E)."""
        return values.mean(axis=2)

    def seed_std(self, values: np.ndarray) -> np.ndarray:
        """Seed-to-seed standard deviation (ddof 1; 0 with a single seed): (L, B, S, E) -> (L, B, E)."""
        if values.shape[2] < 2:
            return np.zeros(values.shape[:2] + values.shape[3:])
        return values.std(axis=2, ddof=1)


def read_table(path: str | Path) -> TrainingTable:
    """Read a table CSV (and its ``.json`` sidecar, when present); the grid must be complete."""
    path = Path(path)
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = [
                (float(r["learning_rate"]), int(r["batch_size"]), int(r["seed"]), int(r["epoch"]),
                 float(r["accuracy"]), float(r["loss"]), float(r["cpu_seconds"]))
                for r in reader
            ]
    except OSError as exc:
        raise InputError(f"cannot read training table {path}: {exc.strerror or exc}") from None
    except (KeyError, ValueError) as exc:
        raise InputError(f"{path}: malformed row ({exc})") from None
    if not rows:
        raise InputError(f"{path}: the training table is empty")
    data = np.array(rows)
    axes = [np.unique(data[:, k]) for k in range(4)]
    shape = tuple(len(a) for a in axes)
    if len(rows) != math.prod(shape):
        raise InputError(
            f"{path}: incomplete grid: {len(rows)} rows for {shape[0]} learning rates x {shape[1]} "
            f"batch sizes x {shape[2]} seeds x {shape[3]} epochs"
        )
    if not np.array_equal(axes[3], np.arange(1, shape[3] + 1)):
        raise InputError(f"{path}: epochs must be 1..N, got {axes[3].tolist()}")
    if axes[0][0] <= 0:
        raise InputError(f"{path}: learning rates must be > 0")
    index = tuple(np.searchsorted(axes[k], data[:, k]) for k in range(4))
    arrays = []
    for col in (4, 5, 6):
        a = np.full(shape, np.nan)
        a[index] = data[:, col]
        arrays.append(a)
    if np.isnan(arrays[0]).any():  # duplicates hide a gap even when the count matches
        raise InputError(f"{path}: incomplete grid (duplicate rows)")
    sidecar = path.with_suffix(".json")
    provenance = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    return TrainingTable(
        learning_rates=axes[0],
        batch_sizes=axes[1],
        seeds=tuple(int(s) for s in axes[2]),
        accuracy=arrays[0],
        loss=arrays[1],
        cpu_seconds=arrays[2],
        provenance=provenance,
    )


def shipped_table_path() -> Path:
    return Path(str(resources.files("katibsim_plugins") / "data" / "mnist_tfjob.csv"))


@lru_cache(maxsize=4)
def cached_table(path: str) -> TrainingTable:
    """Read once per process: the table is immutable and every trial of a run uses it."""
    return read_table(path)


@dataclass(frozen=True)
class Corners:
    """Bilinear weights: ``sum(w * grid[i, j])`` over the four (i, j) corners of a cell."""

    i: tuple[int, int]
    j: tuple[int, int]
    weights: tuple[float, float, float, float]  # (i0,j0), (i0,j1), (i1,j0), (i1,j1)


def _axis(grid: np.ndarray, v: float) -> tuple[int, int, float]:
    """Lower index, upper index and the fraction towards the upper one; clamped to the grid."""
    if v <= grid[0] or len(grid) == 1:
        return 0, 0, 0.0
    if v >= grid[-1]:
        n = len(grid) - 1
        return n, n, 0.0
    hi = int(np.searchsorted(grid, v, side="right"))
    lo = hi - 1
    return lo, hi, float((v - grid[lo]) / (grid[hi] - grid[lo]))


def corners(table: TrainingTable, learning_rate: float, batch_size: float) -> Corners:
    """The cell holding (lr, batch size), bilinear in log learning rate and in batch size."""
    if not learning_rate > 0:
        raise SpecError(
            FieldError("objective.inputs", "objective mnist-tfjob: --learning_rate must be > 0", value=learning_rate)
        )
    i0, i1, t = _axis(np.log(table.learning_rates), math.log(learning_rate))
    j0, j1, u = _axis(table.batch_sizes.astype(float), float(batch_size))
    return Corners((i0, i1), (j0, j1), ((1 - t) * (1 - u), (1 - t) * u, t * (1 - u), t * u))


def interpolate(grid_values: np.ndarray, c: Corners) -> np.ndarray:
    """Interpolate an array indexed (lr, batch size, ...) at the corners ``c``."""
    (i0, i1), (j0, j1) = c.i, c.j
    w00, w01, w10, w11 = c.weights
    return (
        w00 * grid_values[i0, j0]
        + w01 * grid_values[i0, j1]
        + w10 * grid_values[i1, j0]
        + w11 * grid_values[i1, j1]
    )


def lag1_correlation(values: np.ndarray) -> float:
    """Pooled correlation of a run's deviation from its seed mean between consecutive epochs.

    ``values`` is (L, B, S, E); deviations are standardised per (lr, batch size, epoch) so every
    cell counts alike. Used as the AR(1) coefficient of the surrogate's noise.
    """
    if values.shape[2] < 2 or values.shape[3] < 2:
        return 0.0
    mean = values.mean(axis=2, keepdims=True)
    std = values.std(axis=2, ddof=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(std > 0, (values - mean) / std, 0.0)
    a, b = d[..., :-1], d[..., 1:]
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else 0.0
