"""SimulationOptions: the knobs of the simulation model (delays, failures, missing metrics, Katib quirks).

Everything a scenario or the CLI may vary about *how* an experiment is simulated, as opposed to the
experiment itself. Frozen, validated on construction, and convertible to and from plain mappings so
scenario files and run results can carry them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any, Mapping

from katibsim.errors import InputError

DEFAULT_START = "2025-01-01T00:00:00Z"


@dataclass(frozen=True)
class RegionBound:
    """One side of a failure region: ``parameter`` within [min, max] (either open) or in ``values``.

    Bounds are compared with the typed value of the parameter (numbers for double/int/discrete);
    ``values`` holds Katib strings for categorical (or discrete) parameters.
    """

    parameter: str
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()

    def matches(self, value: Any) -> bool:
        if self.values:
            return str(value) in self.values
        try:
            x = float(value)
        except (TypeError, ValueError):
            return False
        if self.min is not None and x < self.min:
            return False
        if self.max is not None and x > self.max:
            return False
        return True

    def describe(self) -> str:
        if self.values:
            return f"{self.parameter} in {list(self.values)}"
        lo = "-inf" if self.min is None else repr(self.min)
        hi = "inf" if self.max is None else repr(self.max)
        return f"{self.parameter} in [{lo}, {hi}]"


@dataclass(frozen=True)
class SimulationOptions:
    """How the simulation models the cluster around the experiment.

    * ``startup_delay`` — seconds from a Trial's creation until its training starts (pod
      scheduling, image pull); the trial counts as Running meanwhile, as in Katib, where a trial
      is Running as soon as its job exists.
    * ``suggestion_startup_delay`` — seconds from the Experiment's creation until the suggestion
      service answers for the first time (its Deployment becoming ready, Katib issue #771).
    * ``failure_probability`` — each trial fails with this probability.
    * ``failure_region`` — trials whose assignment lies inside this box (every bound matches) fail.
    * ``crash_after_steps`` — a failing trial crashes after this many intermediate reports
      (0: at start); None: at a uniformly drawn point of its run.
    * ``metrics_unavailable_probability`` — a trial that runs to the end reports no objective
      metric with this probability and ends MetricsUnavailable.
    * ``katib_compat`` — reproduce Katib's known defects (True, the default) or correct them:
      MetricsUnavailable trials left out of the request count (more than maxTrialCount trials),
      an exhausted search space leaving the experiment Running forever, early-stopped trials of a
      ``retain: false`` template losing their observation. Either way the result has a note.
    * ``unbounded_trial_limit`` — a safety stop for experiments without ``maxTrialCount`` (Katib
      would create trials forever); it never applies when ``maxTrialCount`` is set.
    * ``start_time`` — the wall-clock instant (RFC3339, UTC) simulated time 0 is rendered as.
    """

    startup_delay: float = 10.0
    suggestion_startup_delay: float = 30.0
    failure_probability: float = 0.0
    failure_region: tuple[RegionBound, ...] = ()
    crash_after_steps: int | None = None
    metrics_unavailable_probability: float = 0.0
    katib_compat: bool = True
    unbounded_trial_limit: int = 10_000
    start_time: str = DEFAULT_START

    def __post_init__(self) -> None:
        for name in ("startup_delay", "suggestion_startup_delay"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                raise InputError(f"simulation option {name} must be a number of seconds >= 0, got {v!r}")
        for name in ("failure_probability", "metrics_unavailable_probability"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
                raise InputError(f"simulation option {name} must be a probability in [0, 1], got {v!r}")
        if self.crash_after_steps is not None and (
            not isinstance(self.crash_after_steps, int) or isinstance(self.crash_after_steps, bool)
            or self.crash_after_steps < 0
        ):
            raise InputError(f"simulation option crash_after_steps must be an integer >= 0, got {self.crash_after_steps!r}")
        if not isinstance(self.unbounded_trial_limit, int) or self.unbounded_trial_limit < 1:
            raise InputError(f"simulation option unbounded_trial_limit must be an integer >= 1, got {self.unbounded_trial_limit!r}")
        if not isinstance(self.katib_compat, bool):
            raise InputError(f"simulation option katib_compat must be true or false, got {self.katib_compat!r}")
        for b in self.failure_region:
            if not isinstance(b, RegionBound):
                raise InputError(f"simulation option failure_region must hold RegionBound entries, got {b!r}")
        self.start_datetime()  # validates

    def start_datetime(self) -> datetime:
        try:
            dt = datetime.strptime(self.start_time, "%Y-%m-%dT%H:%M:%SZ")
        except (TypeError, ValueError):
            raise InputError(
                f"simulation option start_time must be RFC3339 in UTC like {DEFAULT_START}, got {self.start_time!r}"
            ) from None
        return dt.replace(tzinfo=timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failure_region"] = [asdict(b) | {"values": list(b.values)} for b in self.failure_region]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "SimulationOptions":
        """Build from a plain mapping (scenario YAML, a stored result); unknown keys are an error."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown simulation option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        region = data.pop("failure_region", ()) or ()
        bounds = []
        for i, b in enumerate(region):
            if isinstance(b, RegionBound):
                bounds.append(b)
                continue
            if not isinstance(b, Mapping) or "parameter" not in b:
                raise InputError(f"failure_region[{i}] must be a mapping with 'parameter' and min/max or values, got {b!r}")
            extra = sorted(set(b) - {"parameter", "min", "max", "values"})
            if extra:
                raise InputError(f"failure_region[{i}]: unknown key(s) {', '.join(extra)}")
            try:
                bounds.append(RegionBound(
                    parameter=str(b["parameter"]),
                    min=None if b.get("min") is None else float(b["min"]),
                    max=None if b.get("max") is None else float(b["max"]),
                    values=tuple(str(v) for v in (b.get("values") or ())),
                ))
            except (TypeError, ValueError):
                raise InputError(f"failure_region[{i}]: min and max must be numbers, got {b!r}") from None
        coerced: dict[str, Any] = {}
        for key, value in data.items():
            coerced[key] = _coerce(key, value)
        return cls(failure_region=tuple(bounds), **coerced)


_FLOATS = {"startup_delay", "suggestion_startup_delay", "failure_probability", "metrics_unavailable_probability"}
_INTS = {"crash_after_steps", "unbounded_trial_limit"}


def _coerce(key: str, value: Any) -> Any:
    """Strings from a command line or YAML into the option's type, with a clear error."""
    if value is None:
        return None
    try:
        if key in _FLOATS:
            return float(value)
        if key in _INTS:
            f = float(value)
            if not f.is_integer():
                raise ValueError
            return int(f)
        if key == "katib_compat":
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("true", "yes", "1", "on"):
                return True
            if s in ("false", "no", "0", "off"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"simulation option {key}: cannot use {value!r}") from None
    return value


__all__ = ["RegionBound", "SimulationOptions", "DEFAULT_START"]
