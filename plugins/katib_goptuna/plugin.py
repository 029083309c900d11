"""``cmaes`` and ``sobol``: Katib's goptuna suggestion service (reference: docs/algorithms.md).

Both keep the service's in-memory study (:mod:`.study`) and its conventions: settings are read
when the study is built (bad values pass validation and fail every call, :mod:`.settings`),
unknown setting names are ignored, every trial Katib sends must map back to one the service
suggested, categorical and discrete parameters of ``cmaes`` come from goptuna's independent random
sampler. Under ``corrected`` (``--corrected``): unknown and killed trials are skipped instead of
failing the call, cmaes negates the values of a ``maximize`` objective (goptuna's CMA-ES always
minimises), sobol's ints reach ``max`` and a rebuilt sobol continues the sequence.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, SettingsError, SettingSpec, Trial
from katibsim.errors import FieldError, SuggestionServiceFailure
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import ParameterType, SearchSpace, Value

from .cmaes_sampler import CmaesSampler
from .settings import cmaes_options
from .sobol_sampler import draw, engine, internal_values
from .space import CATEGORICAL, CONTINUOUS, INT_UNIFORM, STEP_INT_UNIFORM, Distribution, distributions, ordered
from .study import Study, StudyTrial

_SOURCE = "pkg/suggestion/v1beta1/goptuna"
# Why the conformance kit's rules do not hold for Katib's behaviour (tests/plugins/test_kit_on_builtins.py;
# tests/katib_algorithms/ runs the kit on the --corrected variants).
FOREIGN = "the kit's histories hold trials the service never suggested, which fail Katib's call (Same parameter is not found)"
KIT_EXEMPT = {
    "check_rebuild_same_answer": "the study lives in memory, as in Katib; a rebuilt service cannot continue it",
    "check_rejects_junk_settings": "Katib's goptuna ignores unknown names and accepts bad values at validation",
    "check_history_with_failed_nan_running_earlystopped": FOREIGN,
    "check_history_unchanged": FOREIGN,
}


class GoptunaAlgorithm(Algorithm):
    """What ``cmaes`` and ``sobol`` share: the study, the sync, the output conversion."""

    capabilities = Capabilities(batch=True)
    #: Conformance-kit checks that Katib's behaviour breaks, with the reason.
    kit_exempt: ClassVar[Mapping[str, str]] = KIT_EXEMPT

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        # Katib's goptuna service ignores setting names it does not know: nothing is rejected here.
        super().__init__(space, objective, {}, seed, **kwargs)
        self.settings = dict(settings or {})
        self.dists = distributions(space)
        self.base_seed = abs(int(seed)) if seed is not None else 0
        self.study: Study | None = None
        self._independent: np.random.Generator | None = None
        self.study_error: tuple[str, str] | None = None  # (setting, Go error) that fails the study build

    # -- hooks of the subclasses -----------------------------------------------------------------
    def _start(self, trials: Sequence[Trial]) -> None:
        raise NotImplementedError

    def _relative(self, trial: StudyTrial) -> dict[str, float]:
        raise NotImplementedError

    # -- the service ------------------------------------------------------------------------------
    def _setting_path(self, name: str) -> str:
        keys = list(self.settings)
        return f"spec.algorithm.algorithmSettings[{keys.index(name)}].value" if name in keys else "spec.algorithm"

    def _ignored_settings(self, known: tuple[str, ...]) -> list[FieldError]:
        keys = list(self.settings)
        return [FieldError(f"spec.algorithm.algorithmSettings[{i}].name",
                           f"Katib's goptuna service ignores the setting {k} for algorithm {self.name} "
                           f"(it reads only {', '.join(known) or 'no settings'})", value=k, severity="warning")
                for i, k in enumerate(keys) if k not in known]

    def _build_failure(self) -> SuggestionServiceFailure:
        assert self.study_error is not None
        setting, err = self.study_error
        return SuggestionServiceFailure(
            f"Failed to create goptuna study and search space: {err}",
            why=f"Katib's goptuna service parses the setting {setting} only when it builds its study; validation "
                "reports that failure with gRPC code Internal, which Katib's suggestion controller treats as valid, "
                f"so the Experiment starts and every GetSuggestions call fails ({_SOURCE}/converter.go)",
            fix=f"correct the value of {setting}")

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        if self.study_error is not None:
            raise self._build_failure()
        if self.study is None:
            self.study = Study(self.space)
            # goptuna's default independent sampler (categoricals of cmaes). Katib's is Go's global
            # math/rand, never seeded by random_state; katibsim seeds it from the run's seed.
            self._independent = np.random.default_rng([self.base_seed, 1])
            self._start(trials)
        study = self.study
        study.sync(trials, ignore_unknown=self.corrected)
        out: list[dict[str, Value]] = []
        for _ in range(count):
            t = study.new_trial()
            relative = self._relative(t)
            a: dict[str, Value] = {}
            for p in self.space:
                d = self.dists[p.name]
                internal = relative[p.name] if p.name in relative else self._sample_independent(d)
                t.internal[p.name] = internal
                a[p.name] = d.external(internal)
            t.key = self.space.key(a)
            out.append(a)
        return out

    def _sample_independent(self, d: Distribution) -> float:
        """goptuna's RandomSampler (only categorical and discrete parameters reach it in practice)."""
        rng = self._independent
        assert rng is not None
        if d.kind == CATEGORICAL:
            return float(rng.integers(len(d.choices))) if len(d.choices) > 1 else 0.0
        if d.kind in (INT_UNIFORM, STEP_INT_UNIFORM):
            span = int(d.high - d.low) // int(d.step or 1)
            return float(d.low + (int(rng.integers(span)) * int(d.step or 1) if span > 0 else 0))
        return d.low + float(rng.random()) * (d.high - d.low)


class Cmaes(GoptunaAlgorithm):
    """Katib's ``cmaes`` (goptuna ``cmaes.NewSampler`` with ``NStartupTrials(0)``) on Python's ``cmaes.CMA``."""

    name = "cmaes"
    kit_exempt = {**KIT_EXEMPT, **{c: "the kit draws spaces with fewer than two int/double parameters, which Katib's "
                                   "cmaes refuses in validation" for c in ("check_in_space", "check_exact_count",
                                                                            "check_deterministic")}}
    description = ("CMA-ES (Katib's goptuna cmaes): int and double parameters by CMA-ES, categorical and discrete "
                   "at random; restart_strategy ipop/bipop/none")
    settings_spec = (
        SettingSpec("random_state", None, "seed of the sampler (Go strconv.Atoi); default: the run's seed (Katib: 0)"),
        SettingSpec("sigma", None, "initial step size; <= 0 or unset: the smallest (max - min) / 6"),
        SettingSpec("restart_strategy", "none", "ipop (population x2 at each restart), bipop, or none"),
    )

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(space, objective, settings, seed, **kwargs)
        continuous = [p for p in space if p.type in (ParameterType.DOUBLE, ParameterType.INT)]
        if len(continuous) < 2:
            # ValidateAlgorithmSettings, InvalidArgument: the experiment fails validation.
            raise SettingsError("CMA-ES only supports two or more dimensional continuous search space.",
                                path="spec.parameters")
        self.options, self.study_error = cmaes_options(self.settings)
        self.sampler: CmaesSampler | None = None

    def _sigma0(self) -> float:
        sigma = float(self.options.get("sigma", 0.0))  # type: ignore[arg-type]
        return sigma if sigma > 0 else 0.0

    def _zero_width(self) -> list[str]:
        return [n for n, d in self.dists.items() if d.kind in CONTINUOUS and d.high == d.low]

    def predicted_failures(self) -> list[FieldError]:
        out = self._ignored_settings(tuple(s.name for s in self.settings_spec))
        if self.study_error is not None:
            f = self._build_failure()
            out.append(FieldError(self._setting_path(self.study_error[0]),
                                  f"Katib accepts this Experiment but its goptuna service will fail every "
                                  f"GetSuggestions call with \"{f.message}\": {f.why}; fix: {f.fix}", severity="warning"))
        if self.objective.maximize:
            out.append(FieldError("spec.objective.type",
                                  "Katib's cmaes minimises the objective whatever its type: goptuna's CMA-ES sampler "
                                  "tells CMA-ES the raw values and never reads the study direction, so this maximize "
                                  "Experiment is searched towards its worst values (run with --corrected for the fix, "
                                  "or use another algorithm)", value="maximize", severity="warning"))
        if self._zero_width() and self._sigma0() <= 0:
            out.append(FieldError("spec.parameters",
                                  f"parameter(s) {', '.join(self._zero_width())} have min = max, so goptuna's initial "
                                  "sigma (the smallest (max - min) / 6) is 0 and every GetSuggestions call fails with "
                                  "\"sigma should be non-zero positive number\"; set the sigma setting or widen them",
                                  severity="warning"))
        return out

    def _start(self, trials: Sequence[Trial]) -> None:
        seed = self.options.get("seed")
        sigma = self._sigma0()
        if sigma <= 0 and self._zero_width():
            if not self.corrected:
                raise SuggestionServiceFailure(
                    "sigma should be non-zero positive number",
                    why=f"goptuna's initial sigma is the smallest (max - min) / 6 over the int and double parameters; "
                        f"{', '.join(self._zero_width())} have min = max, so it is 0 and NewOptimizer refuses it",
                    fix="set the sigma setting to a positive number, or widen the parameter")
            spans = [(d.high - d.low) / 6 for d in self.dists.values() if d.kind in CONTINUOUS and d.high > d.low]
            sigma = min(spans) if spans else 1.0
        self.sampler = CmaesSampler(
            self.dists, seed=int(seed) if seed is not None else self.base_seed, sigma=sigma,
            restart_strategy=str(self.options.get("restart_strategy", "")), negate=self.corrected and self.objective.maximize)

    def _relative(self, trial: StudyTrial) -> dict[str, float]:
        assert self.sampler is not None and self.study is not None
        return self.sampler.sample(self.study, trial)


class Sobol(GoptunaAlgorithm):
    """Katib's ``sobol`` (goptuna ``sobol.NewSampler()``) on ``scipy.stats.qmc.Sobol(scramble=False)``."""

    name = "sobol"
    kit_exempt = {**KIT_EXEMPT, "check_in_space": FOREIGN, "check_exact_count": FOREIGN, "check_deterministic": FOREIGN}
    description = "Sobol' quasi-random sequence (Katib's goptuna sobol): unscrambled, no seed, no settings"
    settings_spec = ()

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(space, objective, settings, seed, **kwargs)
        self._engine = None

    def predicted_failures(self) -> list[FieldError]:
        out = self._ignored_settings(())
        for i, p in enumerate(self.space):
            d = self.dists[p.name]
            if d.kind in (INT_UNIFORM, STEP_INT_UNIFORM) and d.high > d.low:
                out.append(FieldError(f"spec.parameters[{i}].feasibleSpace.max",
                                      f"Katib's sobol never suggests {p.name} = {p.max}: goptuna maps a Sobol' "
                                      "coordinate u in [0, 1) to floor(u (max - min)) + min, so max is out of reach "
                                      "(--corrected reaches it)", value=str(p.max), severity="warning"))
        return out

    def _start(self, trials: Sequence[Trial]) -> None:
        # Katib: a fresh engine at point 1 whatever the history (a restarted service repeats the
        # sequence); corrected: continue after the trials already in the history.
        self._engine = engine(len(self.dists), skip=1 + (len(trials) if self.corrected else 0))

    def _relative(self, trial: StudyTrial) -> dict[str, float]:
        assert self._engine is not None
        return internal_values(draw(self._engine), self.dists, reach_max=self.corrected)


@hookimpl
def katibsim_register_algorithms(register):
    register(Cmaes)
    register(Sobol)
