"""``grid``: Katib's grid search (Optuna ``GridSampler`` since v0.15, docs/katib-behaviour.md §5.4), in a reproducible order.

The combinations are Katib's (:meth:`katibsim.spec.space.Parameter.grid_values`: int
``range(min, max+1, step)``, double ``numpy.arange`` with a required step, lists as given).
Katib's sampler picks at random among the points neither finished nor running; we walk one fixed
permutation of the grid instead (seeded by ``random_state``, else the run's seed; or the plain
lexicographic order with ``order: lexicographic``), skipping every point already in the history
(running trials included). Over unused points that is the same uniform choice, but it is
reproducible, survives a restart, and never re-offers a running point. When every combination
has been used the algorithm raises :class:`SearchSpaceExhausted`, so the experiment ends with a
reason instead of hanging Running (docs/katib-behaviour.md §9 item 2).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from katibsim.algorithm import (
    Algorithm,
    Capabilities,
    HistoryKeys,
    ObjectiveInfo,
    SettingsError,
    SettingSpec,
    Trial,
    random_state_setting,
)
from katibsim.errors import SearchSpaceExhausted, SpecError
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import ParameterType, SearchSpace, Value

ORDERS = ("shuffled", "lexicographic")
# One parameter with more grid values than this is refused (Katib would build them all in memory).
MAX_AXIS = 10_000_000

_MASK64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class Permutation:
    """A seeded bijection of ``range(n)`` computed point by point (no list of n entries).

    A balanced Feistel network on the smallest even number of bits covering n, restricted to
    range(n) by cycle walking: applying the network again until the result falls below n keeps it
    a bijection.
    """

    ROUNDS = 6

    def __init__(self, n: int, seed: int):
        self.n = n
        bits = max(2, (n - 1).bit_length())
        bits += bits % 2
        self.half = bits // 2
        self.mask = (1 << self.half) - 1
        self.keys = [_mix(seed * 1_000_003 + r) for r in range(self.ROUNDS)]

    def __call__(self, i: int) -> int:
        x = i
        while True:
            left, right = x >> self.half, x & self.mask
            for k in self.keys:
                left, right = right, left ^ (_mix(right ^ k) & self.mask)
            x = (left << self.half) | right
            if x < self.n:
                return x


class Grid(Algorithm):
    """Grid search over Katib's combinations; ends with SearchSpaceExhausted when all are used."""

    name = "grid"
    description = "Grid search over Katib's combinations (int range, double arange with step, lists), each point once."
    capabilities = Capabilities(double_needs_step=True)

    @classmethod
    def missing_step_message(cls, parameter: str) -> str:
        return f"Param {parameter} step is nil; For discrete search space, all parameters must include step"

    settings_spec = (
        SettingSpec(
            "random_state",
            None,
            "int >= 0; seeds the order of the points (order: shuffled), like Katib's GridSampler seed",
        ),
        SettingSpec(
            "order",
            "shuffled",
            "shuffled (a seeded permutation: Katib's random choice, reproducible) or lexicographic "
            "(first parameter slowest)",
            katib=False,
        ),
    )

    def __init__(
        self,
        space: SearchSpace,
        objective: ObjectiveInfo,
        settings: Mapping[str, str] | None = None,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(space, objective, settings, seed, **kwargs)
        random_state = random_state_setting(self.settings.get("random_state"))
        order = self.setting("order")
        if order not in ORDERS:
            raise SettingsError(f"order should be one of {', '.join(ORDERS)}, got {order}", setting="order")
        self.order = order
        self.axes: list[list[Value]] = []
        for i, p in enumerate(space):
            if p.type == ParameterType.DOUBLE and p.step is None:
                raise SettingsError(
                    f"Param {p.name} step is nil; For discrete search space, all parameters must include step",
                    path=f"spec.parameters[{i}].feasibleSpace.step",
                )
            if p.type in (ParameterType.DOUBLE, ParameterType.INT):
                step = float(p.step) if p.step else 1.0
                if (float(p.max) - float(p.min)) / step > MAX_AXIS:
                    raise SettingsError(
                        f"Param {p.name} has more than {MAX_AXIS} grid values; use a larger step",
                        path=f"spec.parameters[{i}].feasibleSpace.step",
                    )
            try:
                self.axes.append([p.coerce(v) for v in p.grid_values()])
            except SpecError as exc:  # pragma: no cover - guarded above
                raise SettingsError(str(exc), path=f"spec.parameters[{i}].feasibleSpace") from None
        self.combinations = math.prod(len(a) for a in self.axes)
        m = self.max_trial_count
        if m is not None and m > self.combinations:
            # Katib's message (docs/katib-behaviour.md §5.4); an unset maxTrialCount (sent as 0) passes.
            raise SettingsError(
                f"Max Trial Count: {m} > all possible search combinations: {self.combinations}",
                path="spec.maxTrialCount",
            )
        base = random_state if random_state is not None else seed
        if base is None:
            base = int(np.random.SeedSequence().entropy % (2**63))
        self.base_seed = abs(int(base))
        self._perm = Permutation(self.combinations, self.base_seed) if self.combinations else None
        self._history = HistoryKeys(space)
        self._cursor = 0  # every point before it (in walk order) is in the history

    # -- walk ------------------------------------------------------------------------------------------
    def point(self, k: int) -> dict[str, Value]:
        """The k-th point of the walk (k in range(combinations))."""
        index = self._perm(k) if (self.order == "shuffled" and self._perm) else k
        values: list[Value] = []
        for axis in reversed(self.axes):  # the first parameter varies slowest
            index, j = divmod(index, len(axis))
            values.append(axis[j])
        return dict(zip(self.space.names, reversed(values)))

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        if self._history.update(trials):
            self._cursor = 0
        used = self._history.keys
        k = self._cursor
        while k < self.combinations and self.space.key(self.point(k)) in used:
            k += 1
        self._cursor = k
        out: list[dict[str, Value]] = []
        taken: set = set()
        while len(out) < count and k < self.combinations:
            a = self.point(k)
            key = self.space.key(a)
            if key not in used and key not in taken:
                out.append(a)
                taken.add(key)
            k += 1
        if len(out) < count:
            raise SearchSpaceExhausted(
                f"grid exhausted: all {self.combinations} search combinations have been suggested "
                f"({len(out)} left of the {count} requested)",
                assignments=out,
            )
        return out


@hookimpl
def katibsim_register_algorithms(register):
    register(Grid)
