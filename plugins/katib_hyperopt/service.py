"""A model of Katib's ``BaseHyperoptService`` (``pkg/suggestion/v1beta1/hyperopt/base_service.py``).

One object is one live suggestion pod: it is built on the first ``GetSuggestions`` call and keeps
its hyperopt ``FMinIter`` (the ``Trials`` it was told, the ``RandomState`` that seeds every call)
and its first-run flag until the pod restarts. A restarted pod (a new object) re-learns every
Succeeded trial, but its ``RandomState`` starts again from ``random_state``.

The calls into hyperopt are Katib's, in Katib's order:

- every Succeeded / EarlyStopped trial not told before is inserted as a DONE document, with the
  objective negated when maximizing; running and failed trials are never inserted;
- ``seed = rstate.randint(2**31 - 1)``, once per call;
- ``random``: ``rand.suggest(new_ids, ...)`` once for the whole batch;
- ``tpe``: on the pod's first call one ``tpe.suggest`` for the batch with
  ``n_startup_jobs = count``; on later calls ``count`` calls of ``tpe.suggest`` with one id each,
  **the same seed** and nothing told in between, so a batch is one point repeated (#1329).

``corrected`` runs the fixed service: each ``tpe.suggest`` of a batch gets its own seed, the seed
of a call follows from the random_state and the length of the history (so a restarted pod answers
like the live one), and a first call with history goes straight to the one-id-at-a-time loop.
"""

from __future__ import annotations

import functools
import math
import warnings
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from katibsim.spec.space import Distribution, ParameterType, SearchSpace
from katibsim_plugins.katib_common import KatibTrial

RANDOM, TPE = "random", "tpe"


@functools.cache
def _hyperopt() -> ModuleType:
    """hyperopt, imported when the first pod is built, not when the plugin registers: it loads
    scipy.stats and more, which every ``katibsim`` command would pay at start."""
    with warnings.catch_warnings():
        # hyperopt 0.2.5 imports pkg_resources (hyperopt/atpe.py), which warns on every import under
        # setuptools 80: a library's deprecation notice, not something a katibsim user can act on.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import hyperopt
    return hyperopt


def constant_parameters(space: SearchSpace) -> dict[str, Any]:
    """int / double parameters with min == max (hyperopt refuses most of them: Katib's pod fails)."""
    out: dict[str, Any] = {}
    for p in space:
        if p.type in (ParameterType.INT, ParameterType.DOUBLE) and float(p.min) == float(p.max):  # type: ignore[arg-type]
            out[p.name] = int(p.min) if p.type == ParameterType.INT else float(p.min)  # type: ignore[arg-type]
    return out


def hyperopt_space(space: SearchSpace, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Katib's ``create_hyperopt_domain``: one ``hp`` expression per parameter.

    An int without a step has step 1 already (Katib's shared conversion), so ints always take the
    quantised forms; a double without a step takes the continuous ones.
    """
    hp = _hyperopt().hp
    out: dict[str, Any] = {}
    for p in space:
        name = p.name
        if name in skip:
            continue
        if p.type in (ParameterType.INT, ParameterType.DOUBLE):
            step = p.step if p.step else (1 if p.type == ParameterType.INT else None)
            lo, hi = float(p.min), float(p.max)  # type: ignore[arg-type]
            if p.distribution == Distribution.UNIFORM:
                if step:
                    out[name] = hp.quniform(name, lo, hi, float(step))
                elif p.type == ParameterType.INT:  # pragma: no cover - ints always have a step here
                    out[name] = hp.uniformint(name, lo, hi)
                else:
                    out[name] = hp.uniform(name, lo, hi)
            elif p.distribution == Distribution.LOG_UNIFORM:
                if step:
                    out[name] = hp.qloguniform(name, math.log(lo), math.log(hi), float(step))
                else:
                    out[name] = hp.loguniform(name, math.log(lo), math.log(hi))
            elif p.distribution == Distribution.NORMAL:
                mu, sigma = (lo + hi) / 2, (hi - lo) / 6
                out[name] = hp.qnormal(name, mu, sigma, float(step)) if step else hp.normal(name, mu, sigma)
            else:  # logNormal
                llo, lhi = math.log(lo), math.log(hi)
                mu, sigma = (llo + lhi) / 2, (lhi - llo) / 6
                out[name] = hp.qlognormal(name, mu, sigma, float(step)) if step else hp.lognormal(name, mu, sigma)
        else:  # categorical, discrete: the list of Katib strings
            out[name] = hp.choice(name, list(p.values))
    return out


class HyperoptService:
    """Katib's hyperopt base service for one pod: ``get_suggestions(trials, count)``.

    ``settings`` are the converted tpe settings (``gamma``, ``prior_weight``, ``n_EI_candidates``)
    passed to ``tpe.suggest`` as keyword arguments; ``seed`` is the ``RandomState`` seed.
    """

    def __init__(self, algorithm: str, space: SearchSpace, *, maximize: bool, seed: int,
                 settings: dict[str, Any] | None = None, corrected: bool = False) -> None:
        if algorithm not in (RANDOM, TPE):
            raise ValueError(f"unknown algorithm name {algorithm}")
        self.algorithm = algorithm
        self.space = space
        self.maximize = maximize
        self.seed = seed
        self.settings = dict(settings or {})
        self.corrected = corrected
        hyperopt = _hyperopt()
        self.suggest_fn = hyperopt.tpe.suggest if algorithm == TPE else hyperopt.rand.suggest
        self.rstate = np.random.RandomState(seed)
        # Corrected: a parameter with min == max is that constant, outside hyperopt's space.
        self.constants = constant_parameters(space) if corrected else {}
        domain_space = hyperopt_space(space, frozenset(self.constants))
        # Corrected, with every parameter constant, hyperopt has nothing to draw (it would raise).
        self.nothing_to_draw = corrected and not domain_space
        self.domain = hyperopt.Domain(None, domain_space or {"_": hyperopt.hp.choice("_", [0])}, pass_expr_memo_ctrl=None)
        self.fmin = hyperopt.FMinIter(self.suggest_fn, self.domain, trials=hyperopt.Trials(), max_evals=-1,
                                      rstate=self.rstate, verbose=False)
        self.fmin.catch_eval_exceptions = False
        self.is_first_run = True
        self.recorded: set[str] = set()  # the trial names in fmin.trials.specs, as a set

    # -- telling -----------------------------------------------------------------------------------
    def _misc_vals(self, trial: KatibTrial) -> dict[str, list]:
        vals: dict[str, list] = {}
        for p in self.space:
            if p.name in self.constants:
                continue
            s = trial.assignment[p.name]
            if p.type == ParameterType.INT:
                vals[p.name] = [int(s)]
            elif p.type == ParameterType.DOUBLE:
                vals[p.name] = [float(s)]
            else:
                vals[p.name] = [list(p.values).index(s)]
        return vals

    def tell(self, trials: Sequence[KatibTrial]) -> None:
        """Insert the trials not recorded yet as DONE documents, in order (Katib's loop)."""
        hyperopt = _hyperopt()
        trials_obj = self.fmin.trials
        tids, specs, results, miscs = [], [], [], []
        for t in trials:
            if t.name in self.recorded:
                continue
            self.recorded.add(t.name)
            tid = trials_obj.new_trial_ids(1)[0]
            vals = self._misc_vals(t)
            misc = dict(tid=tid, cmd=self.domain.cmd, workdir=self.domain.workdir,
                        idxs={k: [tid] for k in vals}, vals=vals)
            loss = -t.value if self.maximize else t.value
            tids.append(tid)
            specs.append({"trial-name": t.name})
            results.append({"loss": loss, "status": hyperopt.STATUS_OK})
            miscs.append(misc)
        if trials:  # Katib inserts (possibly nothing) and refreshes whenever trials were sent
            docs = hyperopt.Trials().new_trial_docs(tids=tids, specs=specs, results=results, miscs=miscs)
            for d in docs:
                d["state"] = hyperopt.JOB_STATE_DONE
            trials_obj.insert_trial_docs(docs)
            trials_obj.refresh()

    @property
    def n_told(self) -> int:
        return len(self.recorded)

    # -- asking ------------------------------------------------------------------------------------
    def _call_seed(self, history_size: int) -> int:
        if self.corrected:
            # A function of the seed and of the history's length, not of the pod's past: a
            # restarted pod answers like the live one, and successive calls still differ.
            return int(np.random.RandomState([self.seed, history_size]).randint(2**31 - 1))
        return int(self.fmin.rstate.randint(2**31 - 1))

    def ask(self, count: int, history_size: int = 0) -> list[dict[str, Any]]:
        """The ``vals`` of each new hyperopt trial (Katib's loop), as hyperopt returns them."""
        trials_obj = self.fmin.trials
        new_ids = trials_obj.new_trial_ids(count)
        seed = self._call_seed(history_size)
        docs: list[dict] = []
        if self.nothing_to_draw:
            return [{} for _ in new_ids]
        if self.algorithm == RANDOM:
            docs = self.suggest_fn(new_ids=new_ids, domain=self.domain, trials=trials_obj, seed=seed)
        elif self.is_first_run and not (self.corrected and self.n_told >= count):
            docs = self.suggest_fn(new_ids=new_ids, domain=self.domain, trials=trials_obj, seed=seed,
                                   n_startup_jobs=count, **self.settings)
            self.is_first_run = False
        else:
            self.is_first_run = False
            rng = np.random.RandomState(seed) if self.corrected else None
            for i in range(count):
                s = int(rng.randint(2**31 - 1)) if rng is not None else seed
                docs.append(self.suggest_fn(new_ids=[new_ids[i]], domain=self.domain, trials=trials_obj, seed=s,
                                            n_startup_jobs=count, **self.settings)[0])
        return [d["misc"]["vals"] for d in docs]

    def get_suggestions(self, trials: Sequence[KatibTrial], count: int, history_size: int = 0) -> list[dict[str, Any]]:
        """Katib's ``getSuggestions``: tell the new trials, then ask for ``count``.

        Each answer maps a parameter to what Katib's ``convert`` puts in the assignment: ``int``
        for an int, hyperopt's float for a double, the list entry (a string) for a list parameter.
        Fewer than ``count`` answers can come back (hyperopt's TPE answers one id per call).
        """
        self.tell(trials)
        out = []
        for vals in self.ask(count, history_size):
            a: dict[str, Any] = {}
            for p in self.space:
                if p.name in self.constants:
                    a[p.name] = self.constants[p.name]
                    continue
                v = vals[p.name][0]
                if p.type == ParameterType.INT:
                    a[p.name] = int(v)
                elif p.type == ParameterType.DOUBLE:
                    a[p.name] = v
                else:
                    a[p.name] = p.values[int(v)]
            out.append(a)
        return out
