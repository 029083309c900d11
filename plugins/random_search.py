"""``random``: Katib's random search (hyperopt ``rand.suggest``, reference §5.3), reproducible and restart-safe.

Each value is drawn from its parameter's distribution by :meth:`katibsim.spec.space.Parameter.sample`
(normal / logNormal truncated to [min, max], unlike Katib's hyperopt; see docs/algorithms.md).
The generator of a call is derived from the seed and the number of trials in the history, never
from hidden state, so a rebuilt algorithm (Katib restarts suggestion pods) gives the same answer.
On a finite space no assignment of the history (any condition) is suggested again until every
point has been used; after that, repeats are allowed (the host counts them as duplicates).
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
    SettingSpec,
    Trial,
    random_state_setting,
)
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import Parameter, ParameterType, SearchSpace, Value

# Beyond this many points a finite space is never enumerated (rejection sampling only).
ENUMERATION_LIMIT = 1_000_000
# Draws tried before falling back to picking among the unused points of a finite space.
REJECTION_TRIES = 64


def axis_length(p: Parameter) -> int | None:
    """Number of values of one parameter without building them; None for a continuous double."""
    if p.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
        return len(p.values)
    if p.type == ParameterType.DOUBLE and p.step is None:
        return None
    lo, hi = float(p.min), float(p.max)
    step = float(p.step) if p.step else 1.0
    return int(math.floor((hi - lo) / step + 1e-9)) + 1


class RandomSearch(Algorithm):
    """Random search: independent draws from each parameter's distribution."""

    name = "random"
    description = "Random search: independent draws from each parameter's distribution (Katib's hyperopt random)."
    capabilities = Capabilities()
    settings_spec = (
        SettingSpec("random_state", None, "seed of the generator, an int >= 0; overrides the run's seed"),
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
        base = random_state if random_state is not None else seed
        if base is None:  # no seed at all: fixed at construction, so this object stays consistent
            base = int(np.random.SeedSequence().entropy % (2**63))
        self.base_seed = abs(int(base))
        lengths = [axis_length(p) for p in space]
        self.finite = all(n is not None for n in lengths)
        self.size: int | None = math.prod(lengths) if self.finite else None  # type: ignore[arg-type]
        # Doubles with a step are mapped onto Katib's grid values (numpy.arange), so the same
        # point always has the same Katib string and repeats are recognised.
        self._grids: dict[str, np.ndarray] = {}
        for p, n in zip(space, lengths):
            if p.type == ParameterType.DOUBLE and n is not None and n <= ENUMERATION_LIMIT:
                self._grids[p.name] = np.asarray(p.grid_values(), dtype=float)
        if self.finite and self.size is not None and self.size <= ENUMERATION_LIMIT:
            self.size = space.size()  # exact (Katib's grid and list semantics)
        self._history = HistoryKeys(space, key=self._feasible_key) if self.finite else None

    # -- helpers -----------------------------------------------------------------------------------
    def _feasible_key(self, assignment: Mapping[str, Value]):
        return self.space.key(assignment) if self.space.contains(assignment) else None

    def _canonical(self, assignment: dict[str, Value]) -> dict[str, Value]:
        for name, grid in self._grids.items():
            x = float(assignment[name])
            i = int(np.clip(np.searchsorted(grid, x), 1, len(grid) - 1)) if len(grid) > 1 else 0
            if len(grid) > 1 and abs(grid[i - 1] - x) <= abs(grid[i] - x):
                i -= 1
            assignment[name] = float(grid[i])
        return assignment

    def draw(self, rng: np.random.Generator) -> dict[str, Value]:
        """One assignment under ``rng`` (canonical values)."""
        return self._canonical(self.space.sample(rng))

    def _unused(self, used: set) -> list[dict[str, Value]]:
        out = []
        for a in self.space.grid():
            a = self._canonical(self.space.coerce(a))
            if self.space.key(a) not in used:
                out.append(a)
        return out

    # -- the contract ----------------------------------------------------------------------------------
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        rng = np.random.default_rng([self.base_seed, len(trials)])
        if not self.finite:
            return [self.draw(rng) for _ in range(count)]
        assert self._history is not None
        self._history.update(trials)
        seen = self._history.keys  # the cache's own set: read, never copied (O(new trials) per call)
        batch: set = set()

        def used(key) -> bool:
            return key in seen or key in batch

        out: list[dict[str, Value]] = []
        unused: list[dict[str, Value]] | None = None
        for _ in range(count):
            if self.size is not None and len(seen) + len(batch - seen) >= self.size:
                out.append(self.draw(rng))  # exhausted: repeats allowed from here on
                continue
            choice = None
            for _ in range(REJECTION_TRIES):
                a = self.draw(rng)
                if not used(self.space.key(a)):
                    choice = a
                    break
            if choice is None and self.size is not None and self.size <= ENUMERATION_LIMIT:
                # Nearly exhausted: pick uniformly among what is left (not by the distribution).
                if unused is None:
                    unused = self._unused(seen)
                unused = [a for a in unused if not used(self.space.key(a))]
                if unused:
                    choice = unused.pop(int(rng.integers(len(unused))))
            if choice is None:
                choice = self.draw(rng)
            batch.add(self.space.key(choice))
            out.append(choice)
        return out


@hookimpl
def katibsim_register_algorithms(register):
    register(RandomSearch)
