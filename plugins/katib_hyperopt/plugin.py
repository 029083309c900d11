"""``random`` and ``tpe``: Katib's hyperopt suggestion service (hyperopt 0.2.5), behaving as Katib's does.

Settings and messages are Katib's ``OptimizerConfiguration.validate_algorithm_spec``
(``pkg/suggestion/v1beta1/hyperopt/service.py``); the suggestions are those of
:class:`~katibsim_plugins.katib_hyperopt.service.HyperoptService`, a model of one live pod. See
docs/algorithms.md for what Katib does wrong and what katibsim shows of it.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping, Sequence

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, SettingsError, SettingSpec, Trial
from katibsim.errors import FieldError, SuggestionServiceFailure
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import Distribution, ParameterType, SearchSpace, Value
from katibsim_plugins.katib_common import (
    HYPEROPT_RANDOM_STATE_MESSAGE,
    katib_random_state,
    library_seed,
    seed_failure,
    to_assignments,
    told_trials,
)
from katibsim_plugins.katib_hyperopt.service import RANDOM, TPE, HyperoptService

SOURCE = "Katib's hyperopt suggestion service (pkg/suggestion/v1beta1/hyperopt, hyperopt 0.2.5)"
RESTART = ("a restarted pod re-learns the trials but its RandomState starts again from random_state, so it "
           "answers differently from the live pod")
FIRST_CALL = ("a first call with a history and more than one trial requested (a restarted pod) returns one "
              "suggestion, which Katib refuses (\"The response contains unexpected trials\")")


def _check(name: str, raw: str, convert: Callable[[str], Any], ok: Callable[[Any], bool], message: str) -> Any:
    """One of Katib's checks: a conversion failure gives ``failed to validate <k>(<v>): <exc>``."""
    try:
        value = convert(raw)
        good = ok(value)
    except Exception as exc:  # noqa: BLE001 - Katib catches everything here, and so do we
        raise SettingsError(f"failed to validate {name}({raw}): {exc}", setting=name) from None
    if not good:
        raise SettingsError(message, setting=name)
    return value


def _is_quantised_off_grid(p) -> bool:
    """True when hyperopt's quantised draw (multiples of the step) misses Katib's min + k*step grid."""
    if p.type not in (ParameterType.INT, ParameterType.DOUBLE):
        return False
    step = p.step if p.step else (1 if p.type == ParameterType.INT else None)
    if not step:
        return False
    k = float(p.min) / float(step)
    return abs(k - round(k)) > 1e-9 or p.distribution in (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL) \
        and float(p.min) < float(step) / 2


class KatibHyperopt(Algorithm):
    """What ``random`` and ``tpe`` share: Katib's validation, the pod model, the conversions."""

    algorithm: ClassVar[str] = ""
    # Katib's checks for each setting: (convert, ok, message).
    checks: ClassVar[dict[str, tuple[Callable[[str], Any], Callable[[Any], bool], str]]] = {}

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        # Katib checks the settings in the order given and stops at the first problem, an unknown
        # key included: so do we, before the base class's own unknown-key check.
        for key, raw in dict(settings or {}).items():
            if key not in self.checks:
                raise SettingsError(f"unknown setting {key} for algorithm {self.name}", setting=key, on_name=True)
            convert, ok, message = self.checks[key]
            _check(key, raw, convert, ok, message)
        super().__init__(space, objective, settings, seed, **kwargs)
        self.random_state = katib_random_state(self.settings.get("random_state"), HYPEROPT_RANDOM_STATE_MESSAGE)
        self.library_seed = library_seed(self.random_state, seed)
        # Katib's convert_algorithm_spec: the tpe settings are passed to tpe.suggest as given.
        self.library_settings = {k: self.checks[k][0](v) for k, v in self.settings.items() if k != "random_state"}
        self.service: HyperoptService | None = None  # built on the first call, like Katib's pod
        self.moved = 0  # values Katib would run outside the space, moved into it (docs/algorithms.md)

    def _new_service(self) -> HyperoptService:
        return HyperoptService(self.algorithm, self.space, maximize=self.objective.maximize, seed=self.library_seed,
                               settings=self.library_settings, corrected=self.corrected)

    def _domain_error(self) -> str | None:
        """hyperopt's own refusal of Katib's search space (e.g. min == max), seen before any run."""
        try:
            self._new_service()
        except Exception as exc:  # noqa: BLE001 - whatever hyperopt raises, Katib's pod raises
            return f"{type(exc).__name__}: {exc}"
        return None

    def _seed_error(self) -> str | None:
        if not hasattr(self, "_seed_error_text"):  # numpy's verdict on the seed never changes
            self._seed_error_text = seed_failure(self.random_state, "hyperopt") if self.random_state is not None else None
        return self._seed_error_text

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        error = self._seed_error()
        if error:
            raise SuggestionServiceFailure(
                f"ValueError: {error}",
                why=f"{SOURCE} builds numpy.random.RandomState(random_state) on every GetSuggestions until it "
                    "succeeds, and numpy only takes seeds below 2**32",
                fix="set random_state to an int in [0, 4294967295]",
            )
        try:
            if self.service is None:  # Katib builds the pod's service on the first call that gets this far
                self.service = self._new_service()
            told = told_trials(self.space, trials, self.service.recorded)
            answers = self.service.get_suggestions(told, count, history_size=len(trials))
        except Exception as exc:  # noqa: BLE001 - the library failing inside Katib's service
            raise SuggestionServiceFailure(
                f"{type(exc).__name__}: {exc}",
                why=f"hyperopt 0.2.5 raised this inside {SOURCE}; Katib retries on every reconcile",
                fix="change the search space or the algorithm",
            ) from exc
        if len(answers) != count:
            raise SuggestionServiceFailure(
                "The response contains unexpected trials",
                why=f"{SOURCE} got {count} requested with {self.service.n_told} trials already told on its first call "
                    f"(a restarted pod): hyperopt 0.2.5's tpe.suggest answers one id however many it is given, "
                    f"and Katib's suggestion controller refuses a reply with {len(answers)} of {count}",
                fix="the next call succeeds (the pod is no longer on its first run); run with parallelTrialCount 1 "
                    "to avoid it",
            )
        out, moved = to_assignments(self.space, answers)
        self.moved += moved
        return out

    def predicted_failures(self) -> list[FieldError]:
        out: list[FieldError] = []
        if self.random_state is not None and self._seed_error():
            i = list(self.settings).index("random_state")
            out.append(FieldError(
                f"spec.algorithm.algorithmSettings[{i}].value",
                f"Katib's {self.name} fails every GetSuggestions call ({self._seed_error()}), creating no trial: "
                "it seeds numpy.random.RandomState with random_state, which takes seeds below 2**32; "
                "fix: a random_state in [0, 4294967295]",
                value=self.settings["random_state"], severity="warning"))
        domain_error = None if out else self._domain_error()
        if domain_error:
            out.append(FieldError(
                "spec.parameters",
                f"Katib's {self.name} fails every GetSuggestions call ({domain_error}), creating no trial while the "
                "Experiment stays Running: hyperopt refuses the search space Katib builds from these parameters; "
                "fix: give every int/double parameter min < max",
                severity="warning"))
        for i, p in enumerate(self.space):
            if p.distribution in (Distribution.NORMAL, Distribution.LOG_NORMAL) and p.type in (
                    ParameterType.INT, ParameterType.DOUBLE):
                out.append(FieldError(
                    f"spec.parameters[{i}].feasibleSpace.distribution",
                    f"Katib's {self.name} draws {p.name} from hyperopt's {'q' if p.step or p.type == ParameterType.INT else ''}"
                    f"{'log' if p.distribution == Distribution.LOG_NORMAL else ''}normal with mu at the middle "
                    "and sigma a sixth of the range, not clipped: about 0.27% of its values fall outside "
                    "[min, max] and Katib runs them; katibsim moves such a value to the nearest feasible one "
                    "(its runs cannot hold an infeasible point); fix: use distribution uniform, or widen the range",
                    value=p.distribution.value, severity="warning"))
            elif _is_quantised_off_grid(p):
                out.append(FieldError(
                    f"spec.parameters[{i}].feasibleSpace.step",
                    f"Katib's {self.name} rounds {p.name} to multiples of the step (hyperopt's q-distributions), "
                    f"not to min + k*step: Katib runs values off the grid from min {p.min} (or outside [min, max]); "
                    "katibsim moves them to the nearest feasible value; fix: make min a multiple of the step",
                    value=str(p.step or 1), severity="warning"))
        return out


class KatibRandom(KatibHyperopt):
    name = "random"
    algorithm = RANDOM
    description = (
        "Katib's random (hyperopt 0.2.5 rand.suggest): ints drawn with quniform (the end values get half "
        "weight), normal / logNormal not clipped."
    )
    capabilities = Capabilities()
    settings_spec = (
        SettingSpec("random_state", None, "int >= 0; seeds numpy.random.RandomState (katibsim: else the run's seed)"),
    )
    checks = {"random_state": (int, lambda v: v >= 0, HYPEROPT_RANDOM_STATE_MESSAGE)}
    # Rules of katibsim's conformance kit that Katib's service itself breaks (the kit runs them
    # on the --corrected behaviour instead: tests/katib_algorithms/test_conformance.py).
    kit_exempt: ClassVar[dict[str, str]] = {
        "check_rebuild_same_answer": RESTART,
    }


class KatibTpe(KatibHyperopt):
    name = "tpe"
    algorithm = TPE
    description = (
        "Katib's tpe (hyperopt 0.2.5 tpe.suggest, n_startup_jobs = the request size): a batch after the first "
        "call repeats one point (#1329; --corrected: distinct points)."
    )
    # batch=False: Katib's tpe answers a batch with one point repeated.
    capabilities = Capabilities(batch=False)
    settings_spec = (
        SettingSpec("gamma", None, "float in (0, 1); hyperopt's default 0.25"),
        SettingSpec("prior_weight", None, "float > 0; hyperopt's default 1.0"),
        SettingSpec("n_EI_candidates", None, "int > 0; hyperopt's default 24"),
        SettingSpec("random_state", None, "int >= 0; seeds numpy.random.RandomState (katibsim: else the run's seed)"),
    )
    checks = {
        "gamma": (float, lambda v: 1 > v > 0, "gamma should be in the range of (0, 1)"),
        "prior_weight": (float, lambda v: v > 0, "prior_weight should be great than zero"),
        "n_EI_candidates": (int, lambda v: v > 0, "n_EI_candidates should be great than zero"),
        "random_state": (int, lambda v: v >= 0, HYPEROPT_RANDOM_STATE_MESSAGE),
    }

    kit_exempt: ClassVar[dict[str, str]] = {
        "check_rebuild_same_answer": RESTART,
        **{check: FIRST_CALL for check in ("check_in_space", "check_exact_count", "check_deterministic",
                                           "check_history_with_failed_nan_running_earlystopped")},
    }

    def predicted_failures(self) -> list[FieldError]:
        out = super().predicted_failures()
        if (self.parallel_trial_count or 1) > 1:
            fixed = " (katibsim runs the fix: --corrected)" if self.corrected else ""
            out.append(FieldError(
                "spec.parallelTrialCount",
                f"Katib's tpe answers every request for more than one trial after its first with one point "
                f"repeated (#1329): it calls hyperopt's tpe.suggest once per trial with the same seed and tells "
                f"nothing in between, so up to {self.parallel_trial_count} trials at a time run the same "
                f"assignment{fixed}; fix: parallelTrialCount 1, or another algorithm",
                value=self.parallel_trial_count, severity="warning"))
        return out


@hookimpl
def katibsim_register_algorithms(register):
    register(KatibRandom)
    register(KatibTpe)
