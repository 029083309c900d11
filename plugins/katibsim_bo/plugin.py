"""The ``katibsim-bo`` algorithm: katibsim's own GP-BO (not in Katib; Katib's skopt-based
``bayesianoptimization`` is the ``katib_skopt`` plugin).

Flow of one ``suggest(trials, count)``:

1. Trials with a value (Succeeded / EarlyStopped, ``Trial.has_value``) become observations; running
   ones are pending; every trial's assignment is "used" and will not be proposed again (Katib's
   skopt service repeats suggestions, docs/katib-behaviour.md §9 item 6).
2. The first ``n_initial_points`` trials follow a scrambled Sobol (or random) design fixed by the
   seed; trial ``i`` gets design point ``i``.
3. Then: standardise the observations (sign-flipped for ``minimize``), fit the GP (:mod:`.gp`),
   condition on pending trials at their posterior mean (kriging believer, Ginsbourger et al. 2010),
   maximise the acquisition (:mod:`.optimize`; a near-duplicate choice of the warped model is
   replaced by the unwarped GP's, see ``NEAR_DUPLICATE``), append the winner as another fantasy,
   repeat for a batch. Randomness comes from ``(seed, len(trials))``, so the answer is a function of the seed
   and the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, Trial
from katibsim.errors import SearchSpaceExhausted
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import SearchSpace, Value

from . import config as cfg
from .acquisition import Acquisition, CostModel, Scorer
from .encoding import CAT, CONT, Encoding
from .gp import FitCache, Posterior, cross_r2, standardize
from .optimize import ENUMERATE_UP_TO, enumerate_space, maximize
from .prior import Prior
from .warping import fit_lambda, yeo_johnson, yeo_johnson_inverse

HEDGE_KINDS = ("ucb", "logei", "pi")
# A proposal closer than this to a point the model already has (observed, pending or earlier in
# the batch), in units of the fitted length-scales, is a near-duplicate: it re-measures what the
# model knows. The output-warped model can lock onto a local optimum that way for the rest of a
# run (Branin's boundary point (10, 3.0), 50 trials a hair apart); see _unwarped_choice. 1e-4 was
# measured: 1e-5 was too tight to break the lock in every seed, and larger radii hand more of the
# final refinement to the unwarped model. docs/katibsim-bo.md, "Near-duplicates".
NEAR_DUPLICATE = 1e-4
# The matrices here are small (tens to hundreds of rows): a multi-threaded BLAS only adds
# synchronisation, and on a loaded machine it makes every call many times slower. So the
# plugin's own linear algebra runs on one thread, whatever the host process set. The controller
# sees the BLAS libraries loaded when it is built, so scipy stays imported at the top of gp.py and
# acquisition.py: imported later, it runs multi-threaded and results change in the tenth digit.
_THREADS = ThreadpoolController()


class KatibsimBO(Algorithm):
    name = "katibsim-bo"
    description = (
        "not in Katib: katibsim's own Gaussian-process Bayesian optimisation (Matérn-5/2 ARD, MAP hyperparameters, "
        "log-EI/UCB/PI/gp_hedge, Sobol + L-BFGS-B acquisition maximisation, capped kriging-believer batches, "
        "output warping, no duplicates)"
    )
    #: Not one of Katib's algorithms: ``katibsim plugins`` lists it apart ("not in Katib").
    katib_algorithm = False
    capabilities = Capabilities(batch=True)
    settings_spec = cfg.SETTINGS_SPEC

    def __init__(
        self,
        space: SearchSpace,
        objective: ObjectiveInfo,
        settings: Mapping[str, str] | None = None,
        seed: int | None = None,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> None:
        super().__init__(
            space, objective, settings, seed, max_trial_count=max_trial_count, parallel_trial_count=parallel_trial_count
        )
        self.config = cfg.parse(self.settings)
        self.enc = Encoding.of(space)
        if self.config.random_state is not None:
            self._entropy = int(self.config.random_state)
        elif seed is not None:
            self._entropy = int(seed)
        else:
            self._entropy = int(np.random.SeedSequence().entropy % (2**63))
        fixed_noise = 1e-6 if self.config.noise == "deterministic" else None
        self._prior = Prior()
        self._fits = FitCache(self._prior, self.enc.cat_mask, fixed_noise=fixed_noise)
        self._cost_fits = FitCache(self._prior, self.enc.cat_mask)
        self._design: np.ndarray | None = None
        # gp_hedge portfolio state (like skopt, kept in memory; see docs/katibsim-bo.md).
        self._gains = np.zeros(len(HEDGE_KINDS))
        self._hedge_last: np.ndarray | None = None
        self._hedge_seen = -1

    # -- history ---------------------------------------------------------------------------------
    def _history(self, trials: Sequence[Trial]):
        used: set = set()
        X, y, pending, costs = [], [], [], []
        for t in trials:
            try:
                row = self.enc.encode(t.assignment)
                used.add(self.space.key(t.assignment))
            except (KeyError, ValueError, TypeError):
                continue  # an assignment outside this space (an edited experiment): ignore it
            if t.has_value:
                X.append(row)
                y.append(float(t.value) if self.objective.maximize else -float(t.value))
                if t.start_time is not None and t.completion_time is not None and t.completion_time > t.start_time:
                    costs.append((row, math.log(t.completion_time - t.start_time)))
            elif t.condition.is_active:
                pending.append(row)
        Xa = np.array(X).reshape(-1, self.enc.dim)
        Pa = np.array(pending).reshape(-1, self.enc.dim)
        return used, Xa, np.array(y, dtype=float), Pa, costs

    # -- initial design ----------------------------------------------------------------------------
    def _design_points(self, upto: int) -> np.ndarray:
        n = 64
        while n < upto:
            n *= 2
        if self._design is None or len(self._design) < n:
            rng = np.random.default_rng([self._entropy, 0x5EED])
            if self.config.initial_design == "sobol":
                from scipy.stats import qmc  # here, not at the top: scipy.stats would cost every katibsim start

                U = qmc.Sobol(self.enc.dim, scramble=True, seed=rng).random_base2(int(math.log2(n)))
            else:
                U = rng.random((n, self.enc.dim))
            self._design = self.enc.from_uniform(U)
        return self._design

    def _initial(self, index: int, exclude: set, rng: np.random.Generator) -> dict[str, Value] | None:
        design = self._design_points(4 * (index + 1))
        for i in range(index, len(design)):
            a = self.enc.decode(design[i])
            if self.space.key(a) not in exclude:
                return a
        return self._random_new(exclude, rng)

    def _random_new(self, exclude: set, rng: np.random.Generator) -> dict[str, Value] | None:
        size = self.enc.size()
        if size is not None and size <= 100 * ENUMERATE_UP_TO:
            rows = enumerate_space(self.enc)
            free = [r for r in rows if self.enc.key(r) not in exclude]
            return self.enc.decode(free[int(rng.integers(len(free)))]) if free else None
        for _ in range(1000):
            a = self.enc.decode(self.enc.from_uniform(rng.random((1, self.enc.dim)))[0])
            if self.space.key(a) not in exclude:
                return a
        return None

    # -- model ------------------------------------------------------------------------------------
    def _model(self, X: np.ndarray, y: np.ndarray, warp: bool | None = None) -> tuple[Posterior, "Units"]:
        ys, mean, std = standardize(y)
        units = Units(mean, std)
        if self.config.warp if warp is None else warp:
            lam = fit_lambda(ys)
            ys, m2, s2 = standardize(yeo_johnson(ys, lam))
            units = Units(mean, std, lam, m2, s2)
        hyper = self._fits.fit(X, ys)
        return Posterior(X, ys, hyper, self.enc.cat_mask), units

    def _cost_model(self, costs) -> CostModel | None:
        if not self.config.per_second or len(costs) < 2:
            return None
        Xc = np.array([r for r, _ in costs])
        raw = np.array([c for _, c in costs])
        lc, mean, std = standardize(raw)
        hyper = self._cost_fits.fit(Xc, raw)
        return CostModel(Posterior(Xc, lc, hyper, self.enc.cat_mask), mean, std)

    def _acquisition(self, kind: str, best: float, step: int) -> Acquisition:
        c = self.config
        kappa = c.kappa * c.kappa_decay ** max(0, step - c.kappa_decay_delay)
        return Acquisition(kind, best=best, kappa=kappa, xi=c.xi)

    def _maximize(self, post: Posterior, acq: Acquisition, cost: CostModel | None, exclude: set, anchors, rng):
        scorer = Scorer(post, acq, cost)
        return maximize(
            self.enc,
            scorer,
            scorer.with_grad if self.config.polish else None,
            rng,
            exclude=exclude,
            anchors=anchors,
            n_candidates=self.config.candidates(self.enc.dim, len(post.y)) if self.config.polish else max(self.config.n_candidates or 0, 10_000),
            n_starts=self.config.n_restarts,
            lengthscales=post.hyper.lengthscales,
        )

    # -- the contract -------------------------------------------------------------------------------
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        if count <= 0:
            return []
        with _THREADS.limit(limits=1, user_api="blas"):
            return self._suggest(trials, count)

    def _suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        rng = np.random.default_rng([self._entropy, len(trials)])
        used, X, y, pending, costs = self._history(trials)
        exclude = set(used)
        out: list[dict[str, Value]] = []
        n_init = self.config.n_initial_points
        post = None
        while len(out) < count:
            index = len(trials) + len(out)
            if index < n_init or len(y) < 2:
                a = self._initial(index, exclude, rng)
            else:
                if post is None:
                    post, _ = self._model(X, y)
                    best = float(np.max(post.y))
                    anchors = X[np.argsort(-post.y)[:3]]
                    cost = self._cost_model(costs)
                    if len(pending):
                        post = post.condition_on(pending, self._lie(post, pending, best))
                    if self.config.acq_kind == "hedge":
                        self._hedge_update(trials, post)
                row = self._choose(post, best, index - n_init, cost, exclude, anchors, rng)
                if row is not None and self.config.warp and self._near_duplicate(post, row):
                    row = self._unwarped_choice(post, X, y, index - n_init, cost, exclude, anchors, rng)
                if row is None:
                    # Every candidate was used (a nearly full finite space): any unused point will do.
                    a = self._random_new(exclude, rng)
                else:
                    a = self.enc.decode(row)
                    post = post.condition_on(row[None, :], self._lie(post, row[None, :], best))
            if a is None:
                raise SearchSpaceExhausted(
                    f"katibsim-bo: the search space has no unused assignment left ({len(out)} of {count} found)",
                    assignments=out,
                )
            out.append(a)
            exclude.add(self.space.key(a))
        return out

    @staticmethod
    def _lie(post: Posterior, rows: np.ndarray, best: float) -> np.ndarray:
        """Fantasy values for pending points: the posterior mean, capped at the incumbent.

        Plain kriging believer keeps the mean, so where the model already expects to beat the
        incumbent, EI stays high right next to the pending point and a batch collapses onto one
        spot; capping the lie at the incumbent (a constant liar there) spreads the batch.
        """
        return np.minimum(post.predict(rows)[0], best)

    @staticmethod
    def _near_duplicate(post: Posterior, row: np.ndarray) -> bool:
        """Whether ``row`` lies within NEAR_DUPLICATE length-scales of a point the model already has."""
        r2 = cross_r2(row[None, :], post.X, post.hyper.eta, post.cat_mask)
        return bool(r2.size) and float(np.min(r2)) < NEAR_DUPLICATE**2

    def _unwarped_choice(self, post, X, y, step, cost, exclude, anchors, rng) -> np.ndarray | None:
        """What the same acquisition picks on the *unwarped* GP (same data, pending and batch fantasies).

        Used when the warped model proposes a near-duplicate. The Yeo-Johnson exponent is fitted
        to the marginal distribution of the observations, and every near-duplicate of the
        incumbent adds another top value: the exponent climbs (to its bound, 3), every other
        region is squashed into a flat floor, the model grows surer still that nothing beats the
        incumbent, and the next proposal is another near-duplicate. The plain GP is not part of
        that loop. Where it too wants to refine the incumbent (the last steps on a global
        optimum), it proposes a nearby point and the refinement goes on.
        """
        model, _ = self._model(X, y, warp=False)
        best = float(np.max(model.y))
        extra = post.X[len(y) :]  # pending trials and earlier members of this batch
        if len(extra):
            model = model.condition_on(extra, self._lie(model, extra, best))
        return self._choose(model, best, step, cost, exclude, anchors, rng)

    def _choose(self, post, best, step, cost, exclude, anchors, rng) -> np.ndarray | None:
        kind = self.config.acq_kind
        if kind != "hedge":
            ranked = self._maximize(post, self._acquisition(kind, best, step), cost, exclude, anchors, rng)
            return ranked.rows[0] if len(ranked.keys) else None
        proposals = []
        for k in HEDGE_KINDS:
            ranked = self._maximize(post, self._acquisition(k, best, step), cost, exclude, anchors, rng)
            if len(ranked.keys):
                proposals.append(ranked.rows[0])
            else:
                return None
        logits = self.config.hedge_eta * self._gains
        p = np.exp(logits - logits.max())
        p /= p.sum()
        choice = int(rng.choice(len(HEDGE_KINDS), p=p))
        self._hedge_last = np.array(proposals)
        return proposals[choice]

    def _hedge_update(self, trials: Sequence[Trial], post: Posterior) -> None:
        """GP-Hedge (Brochu et al. 2011): reward each base acquisition by the model's mean at its last proposal."""
        if self._hedge_last is not None and len(trials) > self._hedge_seen:
            mu, _ = post.predict(self._hedge_last)
            self._gains = self._gains + mu
        self._hedge_seen = len(trials)

    # -- reports ------------------------------------------------------------------------------------
    def introspect(self, trials: Sequence[Trial], **options: Any) -> Mapping[str, Any] | None:
        """The GP over a 1-D slice, for the seed tutorial's pictures.

        Options: ``param`` (default: the only parameter, else the first non-categorical one) and
        ``points`` (grid size, default 200). The other parameters are held at the best observed
        trial. Returns the grid ``x``, the posterior ``mean`` and ``std`` in the objective's units,
        the ``acquisition`` (in the model's standardised units; its ``acq_func`` is named), the
        observations and ``next`` (what ``suggest(trials, 1)`` returns). ``None`` before the
        model has two observations.
        """
        with _THREADS.limit(limits=1, user_api="blas"):
            return self._introspect(trials, **options)

    def _introspect(self, trials: Sequence[Trial], **options: Any) -> Mapping[str, Any] | None:
        param = options.get("param")
        points = int(options.get("points", 200))
        names = self.space.names
        if param is None:
            nums = [c.param.name for c in self.enc.columns if c.kind != CAT]
            param = names[0] if len(names) == 1 or not nums else nums[0]
        j = names.index(param)
        used, X, y, pending, costs = self._history(trials)
        if len(y) < 2:
            return None
        post, units = self._model(X, y)
        best_i = int(np.argmax(post.y))
        col = self.enc.columns[j]
        grid_u = np.linspace(0.0, 1.0, points) if col.kind == CONT else col.grid
        rows = np.repeat(X[best_i][None, :], len(grid_u), axis=0)
        rows[:, j] = grid_u
        if len(pending):
            post = post.condition_on(pending, self._lie(post, pending, float(np.max(post.y))))
        mu, var = post.predict(rows)
        sigma = np.sqrt(var)
        kind = self.config.acq_kind
        kind = "ucb" if kind == "hedge" else kind
        n_model = max(0, len(trials) - self.config.n_initial_points)
        acq = self._acquisition(kind, float(np.max(post.y[: len(y)])), n_model)
        sign = 1.0 if self.objective.maximize else -1.0
        centre = units.to_internal(mu)
        half = 0.5 * (units.to_internal(mu + sigma) - units.to_internal(mu - sigma))
        xs = [self.enc.decode(r)[param] for r in rows]
        observed = [(t.assignment[param], float(t.value)) for t in trials if t.has_value and param in t.assignment]
        return {
            "param": param,
            "x": xs,
            "mean": (sign * centre).tolist(),
            "std": half.tolist(),
            "acquisition": acq.natural(mu, sigma).tolist(),
            "acq_func": self.config.acq_func if self.config.acq_kind != "hedge" else "UCB (gp_hedge portfolio member)",
            "kappa": acq.kappa,
            "xi": acq.xi,
            "fixed": {n: v for n, v in self.enc.decode(X[best_i]).items() if n != param},
            "observed": observed,
            "next": self.suggest(trials, 1)[0],
            "lengthscales": dict(zip(names, post.hyper.lengthscales.tolist())),
            "noise": post.hyper.noise * units.std**2 if units.lam is None else None,
            "output_warping": self.config.output_warping,
            "warping_lambda": units.lam,
        }


@dataclass(frozen=True)
class Units:
    """From the model's units back to the internal (maximised) objective: unstandardise, unwarp."""

    mean: float
    std: float
    lam: float | None = None
    mean2: float = 0.0
    std2: float = 1.0

    def to_internal(self, z: np.ndarray) -> np.ndarray:
        if self.lam is not None:
            z = yeo_johnson_inverse(self.mean2 + self.std2 * np.asarray(z), self.lam)
        return self.mean + self.std * np.asarray(z)


@hookimpl
def katibsim_register_algorithms(register):
    register(KatibsimBO)
