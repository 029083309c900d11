"""goptuna's CMA-ES relative sampler (``goptuna/cmaes/sampler.go``) driving Python's ``cmaes.CMA``.

goptuna's optimizer is a Go port of the ``cmaes`` library (same author), so the update equations
are the same; this module reproduces goptuna's *sampler* around it:

* only Uniform, DiscreteUniform, IntUniform and StepIntUniform parameters, in sorted-name order,
  are searched by CMA-ES (categorical and discrete parameters go to the independent sampler);
* the start is the centre of the box, ``sigma0`` the smallest ``(high - low) / 6`` unless the
  ``sigma`` setting is > 0, the box is the bounds, ``NStartupTrials(0)``;
* every asked trial is tagged with its generation (``goptuna:cmaes:generationId``); a generation is
  told once ``population_size`` *completed* trials carry its tag (failed and pruned ones never
  count), and then the next ask belongs to the next generation;
* the raw CMA sample is kept as the trial's internal value and is what is told back (the int and
  step rounding happen only on the way out);
* the values told are the objective values **as they are**: goptuna's CMA-ES sampler never looks
  at the study direction, so for a ``maximize`` objective Katib's cmaes minimises it. Reproduced
  (``negate=False``); the corrected behaviour negates them;
* restarts: ``ipop`` multiplies the population by 2 when ``should_stop()``; ``bipop`` interlaces
  large (doubling) and small (random) populations by the evaluations each has used; a restart
  starts from a uniformly random point.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping

import numpy as np

from .space import CONTINUOUS, INT_UNIFORM, STEP_INT_UNIFORM, Distribution, ordered
from .study import Study, StudyTrial

if TYPE_CHECKING:
    from cmaes import CMA

GENERATION_ATTR = "goptuna:cmaes:generationId"
INC_POPSIZE = 2  # Katib passes 2 to SamplerOptionIPop / SamplerOptionBIPop


class CmaesSampler:
    """The sampler's state: the optimizer, its id, and the restart bookkeeping of goptuna's Sampler."""

    def __init__(self, dists: Mapping[str, Distribution], *, seed: int, sigma: float = 0.0,
                 restart_strategy: str = "", negate: bool = False) -> None:
        self.dists = {n: d for n, d in dists.items() if d.kind in CONTINUOUS}
        self.keys = ordered(self.dists)
        self.rng = np.random.default_rng(seed)
        self.sigma0 = sigma
        self.restart_strategy = restart_strategy
        self.negate = negate
        self.optimizer: CMA | None = None
        self.optimizer_id = 0
        self.n_restarts = 0
        self.n_small_eval = 0
        self.n_large_eval = 0
        self.popsize0 = 0
        self.poptype = "small"

    def __getstate__(self) -> dict:
        # cmaes.CMA pickles without its RandomState (a new, unseeded one comes back): keep it here.
        state = dict(self.__dict__)
        state["_optimizer_rng"] = self.optimizer._rng.get_state() if self.optimizer is not None else None
        return state

    def __setstate__(self, state: dict) -> None:
        rng_state = state.pop("_optimizer_rng", None)
        self.__dict__.update(state)
        if self.optimizer is not None and rng_state is not None:
            self.optimizer._rng = np.random.RandomState()
            self.optimizer._rng.set_state(rng_state)

    # -- goptuna's initOptimizer / initialParam -------------------------------------------------
    def _init_optimizer(self, population_size: int | None = None) -> CMA:
        mean, sigmas = [], []
        for k in self.keys:
            d = self.dists[k]
            if self.n_restarts > 0:
                if d.kind in (INT_UNIFORM, STEP_INT_UNIFORM):
                    span = int(d.high - d.low)
                    mean.append(float(d.low + (int(self.rng.integers(span)) if span > 0 else 0)))
                else:
                    mean.append(d.low + float(self.rng.random()) * (d.high - d.low))
            else:
                mean.append((d.high + d.low) / 2)
            sigmas.append((d.high - d.low) / 6)
        sigma0 = self.sigma0 if self.sigma0 > 0 else min(sigmas)
        if not sigma0 > 0:  # a zero-width box: goptuna's NewOptimizer refuses sigma 0 as well
            sigma0 = 1e-12
        bounds = np.array([[self.dists[k].low, self.dists[k].high] for k in self.keys], dtype=float)
        seed = int(self.rng.integers(2**31 - 1))
        self.optimizer_id += 1
        from cmaes import CMA  # here, not at the top: cmaes loads scipy.stats, which would cost every katibsim start

        return CMA(mean=np.array(mean, dtype=float), sigma=sigma0, bounds=bounds, seed=seed,
                   population_size=population_size, n_max_resampling=100)

    def _next_popsize(self) -> int:
        opt = self.optimizer
        assert opt is not None
        if self.restart_strategy == "ipop":
            self.n_restarts += 1
            return opt.population_size * INC_POPSIZE
        if self.popsize0 == 0:
            self.popsize0 = opt.population_size
        n_eval = opt.population_size * opt.generation
        if self.poptype == "small":
            self.n_small_eval += n_eval
        else:
            self.n_large_eval += n_eval
        if self.n_small_eval < self.n_large_eval:
            self.poptype = "small"
            multiplier = float(INC_POPSIZE) ** self.n_restarts
            r = float(self.rng.random()) ** 2
            return int(math.floor(self.popsize0 * multiplier ** r))
        self.poptype = "large"
        self.n_restarts += 1
        return self.popsize0 * INC_POPSIZE ** self.n_restarts

    def _tag(self) -> str:
        assert self.optimizer is not None
        return f"{self.optimizer_id}-{self.optimizer.generation}"

    # -- goptuna's SampleRelative ----------------------------------------------------------------
    def sample(self, study: Study, trial: StudyTrial) -> dict[str, float]:
        """Internal values for the CMA-ES parameters of the new ``trial`` (tells a full generation first)."""
        if len(self.keys) < 2:
            return {}  # ErrUnsupportedSearchSpace: everything goes to the independent sampler
        if self.optimizer is None:
            self.optimizer = self._init_optimizer()
        tag = self._tag()
        solutions = []
        for t in study.completed():
            if t.system_attrs.get(GENERATION_ATTR) != tag:
                continue
            x = np.array([t.internal[k] for k in self.keys], dtype=float)
            value = float(t.value)  # type: ignore[arg-type]
            solutions.append((x, -value if self.negate else value))
            if len(solutions) == self.optimizer.population_size:
                self.optimizer.tell(solutions)
                if self.optimizer.should_stop() and self.restart_strategy:
                    self.optimizer = self._init_optimizer(self._next_popsize())
                break
        x = self.optimizer.ask()
        trial.system_attrs[GENERATION_ATTR] = self._tag()
        return {k: float(v) for k, v in zip(self.keys, x)}
