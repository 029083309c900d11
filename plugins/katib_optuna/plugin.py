"""``grid`` and ``multivariate-tpe``: Katib's Optuna suggestion service (Optuna 3.3.0), behaving as Katib's does.

Settings and messages are Katib's ``OptimizerConfiguration.validate_algorithm_spec``
(``pkg/suggestion/v1beta1/optuna/service.py``); the suggestions are those of
:class:`~katibsim_plugins.katib_optuna.service.OptunaService`, a model of one live pod. Katib's
stock katib-config sends ``tpe`` and ``random`` to hyperopt, so only these two names run here.
See docs/algorithms.md for what Katib does wrong and what katibsim shows of it.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping, Sequence

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, SettingsError, SettingSpec, Trial
from katibsim.errors import FieldError, SearchSpaceExhausted, SuggestionServiceFailure
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import ParameterType, SearchSpace, Value
from katibsim_plugins.katib_common import (
    OPTUNA_EMPTY_MESSAGE,
    katib_random_state,
    katib_strings,
    library_seed,
    seed_failure,
    to_assignments,
    told_trials,
)
from katibsim_plugins.katib_optuna.service import (
    GRID,
    MULTIVARIATE_TPE,
    UNKNOWN_TRIAL,
    GridExhausted,
    OptunaService,
    unsupported_distribution,
)

SOURCE = "Katib's Optuna suggestion service (pkg/suggestion/v1beta1/optuna, Optuna 3.3.0)"
# A grid with more combinations than this is refused: Katib's service builds every combination in
# memory (itertools.product) when it validates and again in GridSampler, and so would katibsim.
GRID_LIMIT = 4_000_000


def _failed_to_validate(name: str, raw: str, exc: Exception) -> SettingsError:
    return SettingsError(f"failed to validate {name}({raw}): {exc}", setting=name)


def _katib_param_str(p) -> str:
    """Katib's ``HyperParameter.__str__`` (its message prints the objects' reprs, addresses and all)."""
    kinds = {ParameterType.INT: "INTEGER", ParameterType.DOUBLE: "DOUBLE", ParameterType.CATEGORICAL: "CATEGORICAL",
             ParameterType.DISCRETE: "DISCRETE"}
    if p.type in (ParameterType.INT, ParameterType.DOUBLE):
        step = p.step if p.step is not None else (1 if p.type == ParameterType.INT else "")
        return (f"HyperParameter(name: {p.name}, type: {kinds[p.type]}, min: {p.min}, max: {p.max}, step: {step}, "
                f"distribution: {p.distribution.value})")
    return f"HyperParameter(name: {p.name}, type: {kinds[p.type]}, list: {', '.join(p.values)})"


_UNKNOWN = ("a pod fails on every completed trial it did not suggest itself (\"An unknown trial has been "
            "passed\"), and on every call for a normal / logNormal parameter (\"Unsupported distribution\")")


class KatibOptuna(Algorithm):
    """What ``grid`` and ``multivariate-tpe`` share: the pod model, the conversions, the failures."""

    algorithm: ClassVar[str] = ""
    # Rules of katibsim's conformance kit that Katib's service itself breaks (the kit runs them
    # on the --corrected behaviour instead: tests/katib_algorithms/test_conformance.py).
    kit_exempt: ClassVar[dict[str, str]] = {
        **{check: _UNKNOWN for check in ("check_in_space", "check_exact_count", "check_deterministic",
                                         "check_history_with_failed_nan_running_earlystopped")},
        "check_rebuild_same_answer": "a restarted pod has an empty study: " + _UNKNOWN,
    }

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        self._validate(dict(settings or {}))
        super().__init__(space, objective, settings, seed, **kwargs)
        self.random_state = katib_random_state(self.settings.get("random_state"), self.negative_message)
        self.config = self.library_config(library_seed(self.random_state, seed))
        self.service: OptunaService | None = None  # built on the first call, like Katib's pod
        self.moved = 0
        # Katib runs what its service returned; when katibsim had to move a value into the space,
        # the service is still told Katib's strings (the key it asked with): katibsim key -> those.
        self._ran: dict[tuple[str, ...], list[dict[str, str]]] = {}
        self._names: dict[str, dict[str, str]] = {}

    negative_message: ClassVar[str] = OPTUNA_EMPTY_MESSAGE

    def _validate(self, settings: dict[str, str]) -> None:
        raise NotImplementedError

    def library_config(self, seed: int) -> dict[str, Any]:
        return {"seed": seed}

    # -- failures ------------------------------------------------------------------------------------
    def _static_failure(self) -> SuggestionServiceFailure | None:
        if not hasattr(self, "_static"):  # the space and the seed never change: decide once
            self._static = self._find_static_failure()
        return self._static

    def _find_static_failure(self) -> SuggestionServiceFailure | None:
        if self.random_state is not None:
            error = seed_failure(self.random_state, "optuna")
            if error:
                return SuggestionServiceFailure(
                    f"ValueError: {error}",
                    why=f"{SOURCE} builds its sampler with seed=random_state (numpy.random.RandomState) on every "
                        "GetSuggestions until it succeeds, and numpy only takes seeds below 2**32",
                    fix="set random_state to an int in [0, 4294967295]")
        message = unsupported_distribution(self.space)
        if message:
            return SuggestionServiceFailure(
                message,
                why=f"{SOURCE} builds Optuna distributions only for uniform and logUniform int/double parameters "
                    "and raises for normal / logNormal on every GetSuggestions call, after validation passed",
                fix="use distribution uniform or logUniform for that parameter, or the algorithm random or tpe "
                    "(hyperopt, which samples normal)")
        return None

    def predicted_failures(self) -> list[FieldError]:
        out: list[FieldError] = []
        for i, p in enumerate(self.space):
            if p.type in (ParameterType.INT, ParameterType.DOUBLE) and p.distribution.value in ("normal", "logNormal"):
                out.append(FieldError(
                    f"spec.parameters[{i}].feasibleSpace.distribution",
                    f"Katib's {self.name} fails every GetSuggestions call with \"{unsupported_distribution(self.space)}\" "
                    "and creates no trial, while the Experiment stays Running: its Optuna service maps only uniform "
                    "and logUniform to Optuna distributions; fix: distribution uniform or logUniform",
                    value=p.distribution.value, severity="warning"))
                break
        if self.random_state is not None and seed_failure(self.random_state, "optuna"):
            i = list(self.settings).index("random_state")
            out.append(FieldError(
                f"spec.algorithm.algorithmSettings[{i}].value",
                f"Katib's {self.name} fails every GetSuggestions call ({seed_failure(self.random_state, 'optuna')}): "
                "the sampler seeds numpy.random.RandomState with random_state; fix: an int in [0, 4294967295]",
                value=self.settings["random_state"], severity="warning"))
        return out

    # -- the call ------------------------------------------------------------------------------------
    def _katib_strings(self, t: Trial) -> dict[str, str]:
        """What Katib's trial holds: the strings the service returned (see ``_ran``)."""
        known = self._names.get(t.name)
        if known is not None:
            return known
        key = tuple(katib_strings(self.space, t.assignment).values())
        pending = self._ran.get(key)
        strings = pending.pop(0) if pending else katib_strings(self.space, t.assignment)
        self._names[t.name] = strings
        return strings

    def _told(self, trials: Sequence[Trial]):
        told = told_trials(self.space, trials, self.service.recorded if self.service is not None else frozenset())
        if not self._ran and not self._names:
            return told
        by_name = {t.name: t for t in trials}
        return [type(k)(k.name, self._katib_strings(by_name[k.name]), k.value) for k in told]

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        failure = self._static_failure()
        if failure is not None and count > 0 and not (self.corrected and failure.message.startswith("Unsupported")):
            raise failure
        if self.service is None:
            self.service = OptunaService(self.algorithm, self.space, maximize=self.objective.maximize,
                                         config=self.config, corrected=self.corrected)
        exhausted: GridExhausted | None = None
        try:
            if self.corrected:
                failed = [(t.name, katib_strings(self.space, t.assignment)) for t in trials
                          if t.condition.is_completed and not (t.value is not None and t.condition.value in
                                                               ("Succeeded", "EarlyStopped"))]
                self.service.tell_failed(failed)
            answers = self.service.get_suggestions(self._told(trials), count)
        except GridExhausted as exc:
            answers, exhausted = exc.assignments, exc
        except ValueError as exc:
            if str(exc) == UNKNOWN_TRIAL:
                raise SuggestionServiceFailure(
                    f"ValueError: {exc}",
                    why=f"{SOURCE} matches each completed trial to a trial of its in-memory study by its assignment; "
                        "a trial it did not suggest (any trial the pod saw before a restart) fails the call, once "
                        "per such trial",
                    fix="do not restart the suggestion pod mid-experiment (or run with --corrected)") from exc
            raise self._library_failure(exc) from exc
        except RuntimeError as exc:
            if "Study.stop" in str(exc):
                raise SuggestionServiceFailure(
                    f"RuntimeError: {exc}",
                    why="Optuna 3.3's GridSampler calls study.stop() when the last unfinished grid point is told, "
                        f"and study.stop() raises outside study.optimize(); {SOURCE} tells outside optimize(), so "
                        "this GetSuggestions call fails (and once the grid is used up, every call that tells a trial)",
                    fix="set maxTrialCount to at most the number of grid combinations") from exc
            raise self._library_failure(exc) from exc
        except Exception as exc:  # noqa: BLE001 - the library failing inside Katib's service
            raise self._library_failure(exc) from exc
        out, moved = to_assignments(self.space, answers)
        if moved:
            self.moved += moved
            for raw, a in zip(answers, out):
                strings = {p.name: str(raw[p.name]) for p in self.space}
                key = tuple(katib_strings(self.space, a).values())
                if tuple(strings.values()) != key:
                    self._ran.setdefault(key, []).append(strings)
        if exhausted is not None:
            raise SearchSpaceExhausted(str(exhausted), assignments=out)
        return out

    def _library_failure(self, exc: Exception) -> SuggestionServiceFailure:
        return SuggestionServiceFailure(
            f"{type(exc).__name__}: {exc}",
            why=f"Optuna 3.3.0 raised this inside {SOURCE}; Katib retries on every reconcile",
            fix="change the search space or the algorithm settings")


class KatibGrid(KatibOptuna):
    name = "grid"
    algorithm = GRID
    description = (
        "Katib's grid (Optuna 3.3.0 GridSampler over Katib's combinations): random order, re-offers running "
        "points once all are asked, fails when the last point is told."
    )
    capabilities = Capabilities(double_needs_step=True)
    settings_spec = (
        SettingSpec("random_state", None, "int >= 0; GridSampler(seed=...) (katibsim: else the run's seed)"),
    )

    @classmethod
    def missing_step_message(cls, parameter: str) -> str:
        """Katib's text for a double without a step (``convert_to_combinations``, search_space.py)."""
        return f"Param {parameter} step is nil; For discrete search space, all parameters must include step"

    def _validate(self, settings: dict[str, str]) -> None:
        for key, raw in settings.items():
            if key != "random_state":
                raise SettingsError(f"unknown setting {key} for algorithm grid", setting=key, on_name=True)
            try:
                ok = int(raw) >= 0
            except Exception as exc:  # noqa: BLE001
                raise _failed_to_validate(key, raw, exc) from None
            if not ok:
                raise SettingsError(OPTUNA_EMPTY_MESSAGE, setting=key)

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(space, objective, settings, seed, **kwargs)
        for i, p in enumerate(space):
            if p.type == ParameterType.DOUBLE and p.step is None:
                params = ", ".join(_katib_param_str(q) for q in space)
                raise SettingsError(
                    f"failed to validate parameters([{params}]): Param {p.name} step is nil; For discrete search "
                    "space, all parameters must include step", path=f"spec.parameters[{i}].feasibleSpace.step")
        lengths = [len(p.grid_values()) if p.type == ParameterType.DOUBLE else
                   (len(range(int(p.min), int(p.max) + 1, int(p.step) if p.step else 1))
                    if p.type == ParameterType.INT else len(p.values)) for p in space]
        self.combinations = math.prod(lengths)
        m = self.max_trial_count
        if m is not None and m > self.combinations:
            raise SettingsError(f"Max Trial Count: {m} > all possible search combinations: {self.combinations}",
                                path="spec.maxTrialCount")
        if self.combinations > GRID_LIMIT:
            raise SettingsError(
                f"the grid has {self.combinations} combinations: Katib's Optuna service builds every one in memory "
                f"(itertools.product) and katibsim refuses more than {GRID_LIMIT}; use larger steps",
                path="spec.parameters")

    def predicted_failures(self) -> list[FieldError]:
        out = super().predicted_failures()
        if out:
            return out
        m = self.max_trial_count
        if m is None:
            out.append(FieldError(
                "spec.maxTrialCount",
                f"Katib's grid has {self.combinations} combinations and no maxTrialCount to stop at: once every point "
                "has been asked it re-offers points still running (duplicates), and when the last point is told "
                "Optuna's GridSampler calls study.stop(), which raises outside optimize(): that GetSuggestions call "
                "fails; afterwards it re-picks finished points at random and every call that tells a trial fails, "
                "so the Experiment never ends by itself"
                + (" (katibsim runs the fix: --corrected ends it when the grid is used up)" if self.corrected else "")
                + f"; fix: maxTrialCount: {self.combinations}",
                severity="warning"))
        elif (self.parallel_trial_count or 1) > 1 and m == self.combinations:
            pass  # every point is asked exactly once before the last one is told
        return out


class KatibMultivariateTpe(KatibOptuna):
    name = "multivariate-tpe"
    algorithm = MULTIVARIATE_TPE
    description = (
        "Katib's multivariate-tpe (Optuna 3.3.0 TPESampler, multivariate, constant_liar): failed trials stay "
        "running in its study; a restarted pod fails on every trial it did not suggest."
    )
    capabilities = Capabilities()
    settings_spec = (
        SettingSpec("n_startup_trials", None, "int >= 0; Optuna's default 10"),
        SettingSpec("n_ei_candidates", None, "int >= 0; Optuna's default 24"),
        SettingSpec("random_state", None, "int >= 0; TPESampler(seed=...) (katibsim: else the run's seed)"),
    )
    negative_message = "random_state should be greate or equal than zero"

    def _validate(self, settings: dict[str, str]) -> None:
        for key, raw in settings.items():
            if key not in ("n_startup_trials", "n_ei_candidates", "random_state"):
                raise SettingsError(f"unknown setting {key} for algorithm {self.name}", setting=key, on_name=True)
            try:
                ok = int(raw) >= 0
            except Exception as exc:  # noqa: BLE001
                raise _failed_to_validate(key, raw, exc) from None
            if not ok:
                raise SettingsError(f"{key} should be greate or equal than zero", setting=key)

    def predicted_failures(self) -> list[FieldError]:
        out = super().predicted_failures()
        if "n_ei_candidates" in self.settings and int(self.settings["n_ei_candidates"]) == 0:
            i = list(self.settings).index("n_ei_candidates")
            out.append(FieldError(
                f"spec.algorithm.algorithmSettings[{i}].value",
                "Katib accepts n_ei_candidates 0, but once the start-up trials are told every GetSuggestions call "
                "fails (Optuna's TPE: \"The size of 'samples' should be more than 0\"), creating no trial while "
                "the Experiment stays Running; fix: n_ei_candidates >= 1",
                value="0", severity="warning"))
        return out

    def library_config(self, seed: int) -> dict[str, Any]:
        config: dict[str, Any] = {k: int(v) for k, v in self.settings.items() if k in ("n_startup_trials",
                                                                                      "n_ei_candidates")}
        # Katib's convert_algorithm_spec: random_state becomes seed; multivariate and constant_liar forced.
        config.update(seed=seed, multivariate=True, constant_liar=True)
        return config


@hookimpl
def katibsim_register_algorithms(register):
    register(KatibGrid)
    register(KatibMultivariateTpe)
