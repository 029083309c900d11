"""Where the trials are: each parameter's covered region, the unit-cube encoding, extrapolation.

Numeric parameters (double, int, discrete) map to [0, 1] over the range the trials cover (on a
natural-log scale when the space says the parameter is log-distributed and the range is
positive); a categorical parameter becomes one 0/1 column per category the trials used. A point is
*extrapolated* when a numeric value lies outside the covered range, a category was never tried, or
the point is farther (in the unit cube) from every trial than any trial is from its nearest
neighbour (a hole inside the box the trials span).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

#: Relative slack on the covered range: a value that differs from the edge by a rounding of the
#: printed number (Katib writes assignments as strings) is still inside.
EDGE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Column:
    """One parameter as the models see it.

    ``kind``: "double" | "int" | "categorical" (discrete parameters are numeric doubles here);
    ``low`` / ``high``: the range the trials cover (numeric); ``values``: the categories the trials
    used (categorical); ``log``: encoded on a natural-log scale; ``declared``: the Experiment's
    feasible space for the parameter when it was given (numeric: (min, max); categorical: its
    values), which is where the objective accepts suggestions; () when only trials were read.
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    values: tuple[str, ...] = ()
    declared: tuple = ()

    @property
    def width(self) -> int:
        return len(self.values) if self.kind == "categorical" else 1

    def unit(self, value: float) -> float:
        """``value``'s position in the covered range: 0 at ``low``, 1 at ``high`` (not clipped)."""
        if self.high <= self.low:
            return 0.5
        if self.log:
            v = max(value, 1e-300)
            return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def outside(self, value: Any) -> bool:
        if self.kind == "categorical":
            return str(value) not in self.values
        slack = EDGE_TOLERANCE * max(1.0, abs(self.low), abs(self.high))
        return not (self.low - slack <= float(value) <= self.high + slack)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "categorical":
            d["values"] = list(self.values)
        else:
            d.update(low=self.low, high=self.high, log=self.log)
        if self.declared:
            d["declared"] = list(self.declared)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Column":
        kind = str(d["kind"])
        declared = tuple(str(v) if kind == "categorical" else float(v) for v in d.get("declared", ()))
        return cls(str(d["name"]), kind, float(d.get("low", 0.0)), float(d.get("high", 0.0)),
                   bool(d.get("log", False)), tuple(str(v) for v in d.get("values", ())), declared)


@dataclass(frozen=True)
class Encoding:
    """The columns in the table's parameter order and the extrapolation radius in the unit cube."""

    columns: tuple[Column, ...]
    radius: float = math.inf  # a point farther than this from every trial is extrapolated

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def encode(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The unit-cube rows of ``points`` (typed values by name; categoricals as strings)."""
        out = np.zeros((len(points), self.width))
        for i, p in enumerate(points):
            k = 0
            for c in self.columns:
                if c.kind == "categorical":
                    v = str(p[c.name])
                    if v in c.values:
                        out[i, k + c.values.index(v)] = 1.0
                else:
                    out[i, k] = c.unit(float(p[c.name]))
                k += c.width
        return out

    def outside(self, point: Mapping[str, Any]) -> list[str]:
        """The parameters of ``point`` outside the covered region (empty: inside the box)."""
        return [c.name for c in self.columns if c.outside(point[c.name])]

    def extrapolated(self, point: Mapping[str, Any], X: np.ndarray) -> bool:
        """Outside the box, or farther than ``radius`` from every row of ``X`` (the trials)."""
        if self.outside(point):
            return True
        if not math.isfinite(self.radius) or len(X) == 0:
            return False
        d = np.sqrt(((X - self.encode([point])) ** 2).sum(axis=1)).min()
        return bool(d > self.radius)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns],
                "radius": self.radius if math.isfinite(self.radius) else None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Encoding":
        r = d.get("radius")
        return cls(tuple(Column.from_dict(c) for c in d["columns"]), math.inf if r is None else float(r))


def nearest_neighbour_radius(X: np.ndarray) -> float:
    """The largest distance from a trial to its nearest other trial (inf for fewer than 2)."""
    if len(X) < 2:
        return math.inf
    d = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    return float(d.min(axis=1).max())
