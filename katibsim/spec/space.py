"""Typed search space: Katib's string feasibleSpace parsed into parameters algorithms can use.

Values are Python-typed inside katibsim (double -> float, int -> int, discrete -> int or float,
categorical -> str) and become Katib strings (Python ``str()``, as Katib's services do) only at
the edges (``Parameter.format``). Everything an algorithm needs lives here: bounds, the unit-cube
and log transforms, the containment check, Katib's grid enumeration and seeded sampling.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from katibsim.errors import FieldError, SpecError

Value = float | int | str
Assignment = Mapping[str, Value]


class ParameterType(StrEnum):
    DOUBLE = "double"
    INT = "int"
    DISCRETE = "discrete"
    CATEGORICAL = "categorical"


class Distribution(StrEnum):
    UNIFORM = "uniform"
    LOG_UNIFORM = "logUniform"
    NORMAL = "normal"
    LOG_NORMAL = "logNormal"


def parse_number(text: str) -> int | float:
    """Parse a Katib number string; ints stay ints ("16" -> 16, "1e-3" -> 0.001)."""
    s = str(text).strip()
    try:
        return int(s)
    except ValueError:
        pass
    v = float(s)  # raises ValueError
    if math.isnan(v):
        raise ValueError(f"not a number: {text!r}")
    return v


def format_value(v: Value) -> str:
    """Katib's services stringify with Python ``str()``: 0.0123 -> "0.0123", 3 -> "3"."""
    if isinstance(v, (np.floating, np.integer)):
        v = v.item()
    return str(v)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParameterType
    min: float | int | None = None
    max: float | int | None = None
    step: float | int | None = None
    values: tuple[str, ...] = ()  # categorical / discrete list, as Katib strings
    distribution: Distribution = Distribution.UNIFORM

    # -- classification -------------------------------------------------------------------
    @property
    def is_numeric(self) -> bool:
        return self.type in (ParameterType.DOUBLE, ParameterType.INT, ParameterType.DISCRETE)

    @property
    def is_log(self) -> bool:
        return self.distribution in (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)

    @property
    def is_finite(self) -> bool:
        return self.type != ParameterType.DOUBLE or self.step is not None

    @property
    def numbers(self) -> tuple[float, ...]:
        """Numeric values of a discrete parameter's list, in list order."""
        return tuple(float(parse_number(v)) for v in self.values)

    @property
    def bounds(self) -> tuple[float, float]:
        """Numeric bounds (min, max); for discrete the smallest and largest list value."""
        if self.type == ParameterType.DISCRETE:
            nums = self.numbers
            return (min(nums), max(nums))
        if self.type == ParameterType.CATEGORICAL:
            return (0.0, float(len(self.values) - 1))
        assert self.min is not None and self.max is not None
        return (float(self.min), float(self.max))

    # -- conversion -----------------------------------------------------------------------
    def parse(self, text: str) -> Value:
        """A Katib assignment string -> typed value (ValueError when it does not parse)."""
        if self.type == ParameterType.CATEGORICAL:
            return str(text)
        if self.type == ParameterType.INT:
            v = parse_number(text)
            if isinstance(v, float):
                if not v.is_integer():
                    raise ValueError(f"{text!r} is not an integer")
                v = int(v)
            return v
        if self.type == ParameterType.DISCRETE:
            return parse_number(text)
        return float(parse_number(text))

    def format(self, v: Value) -> str:
        """Typed value -> the Katib string; discrete values map back to their list entry."""
        if self.type == ParameterType.DISCRETE:
            for s in self.values:
                if _close(float(parse_number(s)), float(v)):
                    return s
        if self.type == ParameterType.INT:
            return str(int(v))
        return format_value(v)

    def coerce(self, v: Value) -> Value:
        """Normalise a value of the right kind to its canonical Python type (e.g. numpy -> int)."""
        if isinstance(v, (np.floating, np.integer)):
            v = v.item()
        if self.type == ParameterType.CATEGORICAL:
            return str(v)
        if self.type == ParameterType.INT:
            return int(v)
        if self.type == ParameterType.DISCRETE:
            for s in self.values:
                n = parse_number(s)
                if _close(float(n), float(v)):
                    return n
            return v
        return float(v)

    # -- containment ------------------------------------------------------------------------
    def why_not_contains(self, v: object) -> str | None:
        """None when ``v`` is a feasible value of this parameter, else the reason."""
        if self.type == ParameterType.CATEGORICAL:
            if not isinstance(v, str):
                return f"expected a string from {list(self.values)}, got {type(v).__name__} {v!r}"
            return None if v in self.values else f"{v!r} is not one of {list(self.values)}"
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            return f"expected a number, got {type(v).__name__} {v!r}"
        x = float(v)
        if not math.isfinite(x):
            return f"{v!r} is not finite"
        if self.type == ParameterType.DISCRETE:
            return None if any(_close(x, n) for n in self.numbers) else f"{v!r} is not one of {list(self.values)}"
        if self.type == ParameterType.INT and not (isinstance(v, (int, np.integer)) or x.is_integer()):
            return f"{v!r} is not an integer"
        lo, hi = self.bounds
        if x < lo - _tol(lo) or x > hi + _tol(hi):
            return f"{v!r} is outside [{self.min}, {self.max}]"
        if self.step is not None and self.step > 0:
            k = (x - lo) / float(self.step)
            if abs(k - round(k)) > 1e-6:
                return f"{v!r} is not on the step {self.step} grid from {self.min}"
        return None

    def contains(self, v: object) -> bool:
        return self.why_not_contains(v) is None

    # -- Katib's grid --------------------------------------------------------------------------
    def grid_values(self) -> list[Value]:
        """Katib's ``convert_to_combinations`` values for this parameter.

        int: ``range(min, max+1, step)`` (step 1 by default); double: ``numpy.arange(min,
        max+step, step)`` dropping a last element above max, float artefacts included
        (0.015000000000000001); categorical and discrete: the list. A double without a step
        raises SpecError with Katib's message.
        """
        if self.type == ParameterType.CATEGORICAL:
            return list(self.values)
        if self.type == ParameterType.DISCRETE:
            return [parse_number(s) for s in self.values]
        if self.type == ParameterType.INT:
            step = int(self.step) if self.step else 1
            return list(range(int(self.min), int(self.max) + 1, step))
        if self.step is None:
            raise SpecError(
                f"Param {self.name} step is nil; For discrete search space, all parameters must include step"
            )
        arr = np.arange(float(self.min), float(self.max) + float(self.step), float(self.step))
        if arr.size and arr[-1] > float(self.max):
            arr = arr[:-1]
        return [float(x) for x in arr]

    # -- unit cube ------------------------------------------------------------------------------
    def _t(self, x: float) -> float:
        return math.log(x) if self.is_log and self.bounds[0] > 0 else x

    def _tinv(self, y: float) -> float:
        return math.exp(y) if self.is_log and self.bounds[0] > 0 else y

    def to_unit(self, v: Value) -> float:
        """Map a value into [0, 1] (log space for log distributions; list index for categorical)."""
        if self.type == ParameterType.CATEGORICAL:
            n = len(self.values)
            return 0.5 if n == 1 else self.values.index(str(v)) / (n - 1)
        lo, hi = self.bounds
        tlo, thi = self._t(lo), self._t(hi)
        if thi == tlo:
            return 0.5
        return (self._t(float(v)) - tlo) / (thi - tlo)

    def from_unit(self, u: float) -> Value:
        """Inverse of ``to_unit``, snapped to a feasible value (int rounding, step grid, nearest list entry)."""
        u = min(1.0, max(0.0, float(u)))
        if self.type == ParameterType.CATEGORICAL:
            n = len(self.values)
            return self.values[int(round(u * (n - 1)))] if n > 1 else self.values[0]
        lo, hi = self.bounds
        tlo, thi = self._t(lo), self._t(hi)
        x = self._tinv(tlo + u * (thi - tlo))
        return self.snap(x)

    def snap(self, x: float) -> Value:
        """The feasible value nearest to the real number ``x``."""
        if self.type == ParameterType.CATEGORICAL:
            raise TypeError("snap() is for numeric parameters")
        if self.type == ParameterType.DISCRETE:
            nums = [parse_number(s) for s in self.values]
            return min(nums, key=lambda n: abs(float(n) - x))
        lo, hi = self.bounds
        x = min(hi, max(lo, x))
        if self.step is not None and self.step > 0:
            k = round((x - lo) / float(self.step))
            x = lo + k * float(self.step)
            while x > hi + _tol(hi):
                x -= float(self.step)
        if self.type == ParameterType.INT:
            xi = int(round(x))
            return min(int(hi), max(int(lo), xi))
        return float(min(hi, max(lo, x)))

    # -- sampling ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Value:
        """One value under ``rng``, following the distribution.

        normal / logNormal use Katib's mu = (min+max)/2 and sigma = (max-min)/6 (on the log scale
        for logNormal) but, unlike Katib's hyperopt service, are **truncated to [min, max]** by
        resampling, so every value stays feasible (see docs/algorithms.md).
        """
        if self.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
            choice = self.values[int(rng.integers(len(self.values)))]
            return choice if self.type == ParameterType.CATEGORICAL else parse_number(choice)
        lo, hi = self.bounds
        if self.type == ParameterType.INT and self.distribution == Distribution.UNIFORM and not self.step:
            return int(rng.integers(int(lo), int(hi) + 1))
        if self.distribution in (Distribution.NORMAL, Distribution.LOG_NORMAL):
            tlo, thi = self._t(lo), self._t(hi)
            mu, sigma = (tlo + thi) / 2, (thi - tlo) / 6
            for _ in range(1000):
                y = rng.normal(mu, sigma) if sigma > 0 else mu
                if tlo <= y <= thi:
                    break
            else:  # pragma: no cover - probability ~ 0
                y = min(thi, max(tlo, y))
            return self._sample_finish(self._tinv(y))
        if self.type == ParameterType.INT:
            # Uniform over the feasible integers (so every step value is equally likely).
            vals = self.grid_values() if self.step else None
            if vals is not None and not self.is_log:
                return vals[int(rng.integers(len(vals)))]
            tlo, thi = self._t(lo - 0.5 if not self.is_log else lo), self._t(hi + 0.5 if not self.is_log else hi)
            return self._sample_finish(self._tinv(rng.uniform(tlo, thi)))
        if self.step is not None and not self.is_log:
            vals = self.grid_values()
            return vals[int(rng.integers(len(vals)))]
        tlo, thi = self._t(lo), self._t(hi)
        return self._sample_finish(self._tinv(rng.uniform(tlo, thi)))

    def _sample_finish(self, x: float) -> Value:
        return self.snap(x)

    def cardinality(self) -> int | None:
        """Number of feasible values, None for a continuous double."""
        if self.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
            return len(set(self.format(parse_number(v)) if self.type == ParameterType.DISCRETE else v for v in self.values))
        if self.type == ParameterType.INT:
            return len(self.grid_values())
        if self.step is not None:
            return len(self.grid_values())
        return None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _tol(x: float) -> float:
    return 1e-9 * max(1.0, abs(x))


@dataclass(frozen=True)
class SearchSpace:
    parameters: tuple[Parameter, ...]

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_specs(cls, specs: Sequence, *, file: str | None = None) -> "SearchSpace":
        """Build from ``ParameterSpec``s; every unparsable number is reported at its field path."""
        errors: list[FieldError] = []
        params: list[Parameter] = []
        for i, ps in enumerate(specs):
            base = f"spec.parameters[{i}].feasibleSpace"
            fs = ps.feasible_space
            try:
                ptype = ParameterType(ps.parameter_type)
            except ValueError:
                errors.append(
                    FieldError(f"spec.parameters[{i}].parameterType", f"parameterType: {ps.parameter_type} is not supported", file, ps.parameter_type)
                )
                continue
            dist_s = fs.distribution or "uniform"
            try:
                dist = Distribution(dist_s)
            except ValueError:
                errors.append(FieldError(f"{base}.distribution", f"distribution: {dist_s} is not supported", file, dist_s))
                continue
            nums: dict[str, int | float | None] = {}
            for key in ("min", "max", "step"):
                raw = getattr(fs, key)
                if raw in (None, ""):
                    nums[key] = None
                    continue
                try:
                    n = parse_number(raw)
                except (ValueError, TypeError):
                    errors.append(FieldError(f"{base}.{key}", f"expected a number as a string, e.g. \"0.01\"", file, raw))
                    nums[key] = None
                    continue
                if ptype == ParameterType.INT and isinstance(n, float):
                    if n.is_integer():
                        n = int(n)
                    else:
                        errors.append(FieldError(f"{base}.{key}", "expected an integer for parameterType: int", file, raw))
                        nums[key] = None
                        continue
                if not math.isfinite(float(n)):
                    errors.append(FieldError(f"{base}.{key}", "expected a finite number", file, raw))
                    nums[key] = None
                    continue
                nums[key] = n
            values: tuple[str, ...] = tuple(str(v) for v in (fs.list or ()))
            if ptype == ParameterType.DISCRETE:
                for j, v in enumerate(values):
                    try:
                        parse_number(v)
                    except (ValueError, TypeError):
                        errors.append(FieldError(f"{base}.list[{j}]", "expected a number for parameterType: discrete", file, v))
            if ptype in (ParameterType.DOUBLE, ParameterType.INT):
                lo, hi, st = nums["min"], nums["max"], nums["step"]
                if lo is None and fs.min in (None, ""):
                    errors.append(FieldError(f"{base}.min", f"feasibleSpace.max or feasibleSpace.min must be specified for parameterType: {ptype}", file, kind="required"))
                if hi is None and fs.max in (None, ""):
                    errors.append(FieldError(f"{base}.max", f"feasibleSpace.max or feasibleSpace.min must be specified for parameterType: {ptype}", file, kind="required"))
                if lo is not None and hi is not None and lo > hi:
                    errors.append(FieldError(f"{base}.max", f"expected max >= min ({fs.min})", file, fs.max))
                if st is not None and st <= 0:
                    errors.append(FieldError(f"{base}.step", "expected a step greater than 0", file, fs.step))
                if dist.value in ("logUniform", "logNormal") and lo is not None and lo <= 0:
                    errors.append(FieldError(f"{base}.min", f"expected min > 0 for distribution {dist.value}", file, fs.min))
            elif ptype in (ParameterType.CATEGORICAL, ParameterType.DISCRETE) and not values:
                errors.append(FieldError(f"{base}.list", f"expected a non-empty list for parameterType: {ptype}", file, kind="required"))
            params.append(
                Parameter(
                    name=ps.name, type=ptype, min=nums.get("min"), max=nums.get("max"), step=nums.get("step"),
                    values=values, distribution=dist,
                )
            )
        if errors:
            raise SpecError(errors)
        return cls(tuple(params))

    # -- access -------------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    # -- checks --------------------------------------------------------------------------------------
    def problems(self, assignment: Mapping[str, object]) -> list[str]:
        """Every reason ``assignment`` is not a feasible point (missing, extra, out of space)."""
        out: list[str] = []
        for p in self.parameters:
            if p.name not in assignment:
                out.append(f"parameter {p.name} is missing")
                continue
            why = p.why_not_contains(assignment[p.name])
            if why:
                out.append(f"parameter {p.name}: {why}")
        for k in assignment:
            if k not in self.names:
                out.append(f"unknown parameter {k}")
        return out

    def contains(self, assignment: Mapping[str, object]) -> bool:
        return not self.problems(assignment)

    def key(self, assignment: Mapping[str, Value]) -> tuple[str, ...]:
        """A hashable identity of an assignment: its Katib strings in parameter order."""
        return tuple(p.format(assignment[p.name]) for p in self.parameters)

    def format(self, assignment: Mapping[str, Value]) -> dict[str, str]:
        return {p.name: p.format(assignment[p.name]) for p in self.parameters}

    def parse(self, strings: Mapping[str, str]) -> dict[str, Value]:
        return {p.name: p.parse(strings[p.name]) for p in self.parameters}

    def coerce(self, assignment: Mapping[str, Value]) -> dict[str, Value]:
        return {p.name: p.coerce(assignment[p.name]) for p in self.parameters}

    # -- grid ------------------------------------------------------------------------------------------
    def size(self) -> int | None:
        """Number of distinct feasible assignments; None when a continuous double is present."""
        total = 1
        for p in self.parameters:
            c = p.cardinality()
            if c is None:
                return None
            total *= c
        return total

    def grid_size(self) -> int:
        """Katib's number of grid combinations (raises SpecError for a double without step)."""
        total = 1
        for p in self.parameters:
            total *= len(p.grid_values())
        return total

    def grid(self) -> Iterator[dict[str, Value]]:
        """Every grid combination, deterministically: the first parameter varies slowest."""
        axes = [p.grid_values() for p in self.parameters]
        for combo in itertools.product(*axes):
            yield dict(zip(self.names, combo))

    # -- unit cube -------------------------------------------------------------------------------------
    def to_unit(self, assignment: Mapping[str, Value]) -> np.ndarray:
        return np.array([p.to_unit(assignment[p.name]) for p in self.parameters], dtype=float)

    def from_unit(self, u: Iterable[float]) -> dict[str, Value]:
        return {p.name: p.from_unit(x) for p, x in zip(self.parameters, u)}

    # -- sampling ----------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> dict[str, Value]:
        return {p.name: p.sample(rng) for p in self.parameters}
