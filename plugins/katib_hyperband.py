"""``hyperband``: Katib's own Hyperband service (``pkg/suggestion/v1beta1/hyperband``), state and defects included.

Katib keeps Hyperband's state in the Suggestion's ``status.algorithmSettings``: every reply carries
``eta, s_max, r_l, b_l, r, n, current_s, current_i, resource_name, evaluating_trials`` (Python
``str()`` of each), and the controller merges them into the experiment's settings for the next
call. This plugin keeps exactly that (:attr:`Hyperband.status_algorithm_settings`), so an instance
built from the merged settings continues where the old one stopped, as a restarted Katib service
does. The arithmetic is Katib's (:class:`HyperbandParam`), including what goes wrong:

* ``n`` is overwritten with the number of assignments the controller asks for, so rung sizes
  follow the request, not the bracket;
* a child rung takes the last ``evaluating_trials`` trials by start time and fails the call while
  any of them is not Succeeded ("There are some trials which are not completed yet");
* a reply whose size differs from the request is dropped by Katib's controller ("The response
  contains unexpected trials") without storing the new state, and asked again on every reconcile;
  a child rung of ``ceil(n / eta)`` assignments always differs from a request of n, so Katib's
  Hyperband stalls after its first rung unless ``maxTrialCount`` ends the Experiment first;
* after its last bracket (``current_s < 0``) the service replies with no assignment, which the
  controller rejects the same way: the Experiment stays Running.

Each failure is raised as :class:`SuggestionServiceFailure` (state unchanged, as in Katib). Under
``corrected`` the end of the last bracket raises :class:`SearchSpaceExhausted` instead, so the
Experiment ends, and discrete values need not be ints. Katib's random draws use the unseeded global ``numpy.random``; here each call
draws from ``default_rng([seed, number of trials])``. A double with a step, or an int with a step,
is snapped onto its grid (Katib sends the raw draw), and a resource value outside the resource
parameter's range is clamped into it (Katib sends it as is; ``predicted_failures`` says so).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, SettingsError, SettingSpec, Trial, TrialCondition
from katibsim.errors import FieldError, SearchSpaceExhausted, SuggestionServiceFailure
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import ParameterType, SearchSpace, Value, parse_number

STATE_KEYS = ("eta", "s_max", "r_l", "b_l", "r", "n", "current_s", "current_i", "resource_name", "evaluating_trials")
_SOURCE = "pkg/suggestion/v1beta1/hyperband/service.py"


@dataclass
class HyperbandParam:
    """Katib's ``HyperBandParam``: the state that travels in ``algorithmSettings``."""

    eta: float = 3
    s_max: int = -1
    r_l: float = -1
    b_l: float = -1
    r: float = -1
    n: int = -1
    current_s: int = -2
    current_i: int = -1
    resource_name: str = ""
    evaluating_trials: int = 0

    @classmethod
    def convert(cls, settings: Sequence[tuple[str, str]]) -> "HyperbandParam":
        """Katib's ``HyperBandParam.convert`` (unknown names ignored; illegal values defaulted)."""
        p = cls()
        for name, value in settings:
            if name == "eta":
                p.eta = float(value)
            elif name == "r_l":
                p.r_l = float(value)
            elif name == "b_l":
                p.b_l = float(value)
            elif name in ("n", "r", "current_s", "current_i", "s_max", "evaluating_trials"):
                setattr(p, name, int(float(value)))
            elif name == "resource_name":
                p.resource_name = value
        if p.current_s == -1:
            return p  # the outer loop has finished
        if p.eta <= 0:
            p.eta = 3
        if p.s_max < 0:
            p.s_max = int(math.log(p.r_l) / math.log(p.eta))
        if p.b_l < 0:
            p.b_l = (p.s_max + 1) * p.r_l
        if p.current_s < 0:
            p.current_s = p.s_max
        if p.current_i < 0:
            p.current_i = 0
        if p.n < 0:
            p.n = bracket_n(p.s_max, p.eta, p.current_s)
        if p.r < 0:
            p.r = p.r_l * p.eta ** (-p.current_s)
        return p

    def generate(self) -> tuple[tuple[str, str], ...]:
        """Katib's ``HyperBandParam.generate``: the settings the reply carries (Python ``str()``)."""
        return tuple((k, str(getattr(self, k))) for k in STATE_KEYS)

    # -- Katib's state transitions ------------------------------------------------------------------
    def next_rung(self) -> None:
        """``_update_hbParameters``."""
        self.current_i += 1
        if self.current_i > self.current_s:
            self.next_bracket()

    def next_bracket(self) -> None:
        """``_new_hbParameters``."""
        self.current_s -= 1
        self.current_i = 0
        if self.current_s >= 0:
            self.n = bracket_n(self.s_max, self.eta, self.current_s)
            self.r = self.r_l * self.eta ** (-self.current_s)


def s_max_of(r_l: float, eta: float) -> int:
    """Katib's ``s_max = int(log(r_l) / log(eta))``."""
    return int(math.log(r_l) / math.log(eta))


def bracket_n(s_max: int, eta: float, s: int) -> int:
    """Trials of bracket s's first rung: ``ceil((s_max + 1) * eta**s / (s + 1))``."""
    return int(math.ceil(float(s_max + 1) * (float(eta ** s) / float(s + 1))))


def min_parallel(r_l: float, eta: int) -> int:
    """Katib's lower bound on parallelTrialCount: ``ceil(eta ** s_max)``."""
    return int(math.ceil(eta ** s_max_of(r_l, eta)))


def brackets(r_l: float, eta: float) -> list[list[tuple[int, int]]]:
    """Hyperband's plan as Katib's code computes it when ``n`` is not overwritten: per bracket
    (s = s_max .. 0), per rung, ``(number of trials, resource)``."""
    s_max = s_max_of(r_l, eta)
    out = []
    for s in range(s_max, -1, -1):
        n, r = bracket_n(s_max, eta, s), r_l * eta ** (-s)
        rungs = [(n, int(r))]
        for i in range(1, s + 1):
            n_prev = math.ceil(n * eta ** (-(i - 1)))
            rungs.append((int(math.ceil(n_prev / eta)), int(r * eta ** i)))
        out.append(rungs)
    return out


def katib_schedule(parallel: int, max_trials: int | None, r_l: float, eta: float,
                   limit: int = 10_000) -> tuple[int, str, list[int]]:
    """What Katib's controller and service do when every rung's trials complete together: the
    number of trials created, how it ends ("max" when maxTrialCount ends it, "stuck: <why>"), and
    the resource values those trials get."""
    param = HyperbandParam.convert([("r_l", str(r_l)), ("eta", str(eta))])
    created, resources = 0, []
    while created < limit:
        count = parallel if max_trials is None else min(parallel, max_trials - created)
        if count <= 0:
            return created, "max", resources
        if param.current_s < 0:
            return created, "stuck: the last bracket is done and the service answers with no assignment", resources
        trial = copy.deepcopy(param)
        trial.n = count
        k, r = _plan(trial)
        if k != count:
            return created, (f"stuck: a rung of {k} assignment(s) answers a request for {count}, which Katib's "
                             "controller drops (The response contains unexpected trials)"), resources
        param = trial
        created += k
        resources.append(r)
    return created, "limit", resources


def _plan(param: HyperbandParam) -> tuple[int, int]:
    """``_make_bracket`` without sampling: how many assignments it returns and their resource."""
    if param.evaluating_trials == 0:
        k, r = param.n, int(param.r)
    else:
        n_i = math.ceil(param.n * param.eta ** (-param.current_i))
        k = int(math.ceil(n_i / param.eta))
        param.next_rung()
        r = int(param.r * param.eta ** param.current_i)
    param.evaluating_trials = k if param.current_i < param.current_s else 0
    if param.evaluating_trials == 0:
        param.next_bracket()
    return k, r


def _failure(message: str, why: str, fix: str) -> SuggestionServiceFailure:
    return SuggestionServiceFailure(message, why=why, fix=fix)


class Hyperband(Algorithm):
    """Katib's Hyperband: random first rungs, then the top 1/eta re-run with eta times the resource."""

    name = "hyperband"
    description = ("Hyperband (Katib's own service): brackets of random trials whose best are re-run with more of the "
                   "resource parameter; state in algorithmSettings")
    capabilities = Capabilities(multi_fidelity=True)
    #: Settings for the conformance kit's fixed space, and the checks Katib's behaviour breaks.
    kit_settings: ClassVar[Mapping[str, str]] = {"resource_name": "layers", "r_l": "1"}
    kit_exempt: ClassVar[Mapping[str, str]] = {
        c: "the kit's drawn spaces have no resource parameter to name in resource_name (tests/katib_algorithms/"
           "test_hyperband.py runs the kit through an adapter)"
        for c in ("check_in_space", "check_exact_count", "check_deterministic", "check_rebuild_same_answer",
                  "check_history_with_failed_nan_running_earlystopped", "check_history_unchanged", "check_rejects_junk_settings",
                  "check_pickles", "check_batch")}
    settings_spec = (
        SettingSpec("resource_name", None, "the parameter that carries the resource (epochs); required"),
        SettingSpec("r_l", None, "the largest resource a trial gets; required, a float >= 0"),
        SettingSpec("eta", "3", "the halving factor (an int; <= 0 means 3)"),
    ) + tuple(SettingSpec(k, None, "state kept by Katib in the Suggestion's status.algorithmSettings")
              for k in STATE_KEYS if k not in ("resource_name", "r_l", "eta"))

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(space, objective, {}, seed, **kwargs)  # Katib ignores unknown setting names
        self.settings = dict(settings or {})
        self.base_seed = abs(int(seed)) if seed is not None else 0
        self._validate()
        #: The Suggestion's status.algorithmSettings: what Katib stores from each accepted reply.
        self.status_algorithm_settings: tuple[tuple[str, str], ...] = ()

    # -- ValidateAlgorithmSettings ----------------------------------------------------------------
    def _validate(self) -> None:
        s = self.settings
        if "r_l" not in s or "resource_name" not in s:
            raise SettingsError("r_l and resource_name must be set.", setting="r_l" if "r_l" not in s else "resource_name")
        try:
            rl = float(s["r_l"])
        except ValueError:
            raise SettingsError("r_l must be a positive float number.", setting="r_l") from None
        if rl < 0:
            raise SettingsError("r_l must be a positive float number.", setting="r_l")
        eta = 3
        if "eta" in s:
            try:
                eta = int(float(s["eta"]))
            except (ValueError, OverflowError) as exc:
                # An exception in the servicer reaches the controller as gRPC Unknown: a validation failure.
                raise SettingsError(f"Exception calling application: {exc}", setting="eta") from None
            if eta <= 0:
                eta = 3
        try:
            needed = min_parallel(rl, eta)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise SettingsError(f"Exception calling application: {exc}", setting="r_l" if rl <= 0 else "eta") from None
        parallel = self.parallel_trial_count if self.parallel_trial_count is not None else 3
        if parallel < needed:
            raise SettingsError(f"parallelTrialCount must be not less than {needed}.", path="spec.parallelTrialCount")
        if s["resource_name"] not in self.space.names:
            raise SettingsError("value of resource_name setting must be in parameters.", setting="resource_name")

    def predicted_failures(self) -> list[FieldError]:
        out: list[FieldError] = []
        s = self.settings
        rl, eta = float(s["r_l"]), int(float(s.get("eta", "3")))
        eta = eta if eta > 0 else 3
        parallel = self.parallel_trial_count if self.parallel_trial_count is not None else 3
        created, end, used = katib_schedule(parallel, self.max_trial_count, rl, eta)
        if end.startswith("stuck"):
            out.append(FieldError(
                "spec.maxTrialCount",
                f"Katib's hyperband will hang after {created} trial(s) with the Experiment Running ({end[7:]}); "
                f"Katib sizes every rung by the controller's request (parallelTrialCount {parallel}), and a "
                f"smaller child rung is never accepted; set maxTrialCount to {created} so the Experiment ends there",
                value=self.max_trial_count, severity="warning"))
        resource = self.space[s["resource_name"]]
        if resource.type in (ParameterType.INT, ParameterType.DOUBLE):
            wanted = sorted(set(used))
            lo, hi = resource.bounds
            outside = [r for r in wanted if not lo <= r <= hi]
            if outside:
                i = self.space.names.index(resource.name)
                out.append(FieldError(
                    f"spec.parameters[{i}].feasibleSpace",
                    f"hyperband sets {resource.name} to {wanted} in the trials Katib creates; {outside} lie outside "
                    f"[{resource.min}, {resource.max}] (Katib sends them anyway; katibsim clamps them into the range)",
                    severity="warning"))
        for i, k in enumerate(s):
            if k not in STATE_KEYS:
                out.append(FieldError(f"spec.algorithm.algorithmSettings[{i}].name",
                                      f"Katib's hyperband service ignores the setting {k}", value=k, severity="warning"))
        return out

    # -- GetSuggestions --------------------------------------------------------------------------------
    def request_settings(self) -> list[tuple[str, str]]:
        """The settings Katib sends: the experiment's, with status.algorithmSettings merged in."""
        merged = list(self.settings.items())
        for name, value in self.status_algorithm_settings:
            for i, (k, _) in enumerate(merged):
                if k == name:
                    merged[i] = (name, value)
                    break
            else:
                merged.append((name, value))
        return merged

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        param = HyperbandParam.convert(self.request_settings())
        if param.current_s < 0:
            if self.corrected:
                raise SearchSpaceExhausted("hyperband has run its last bracket (corrected: the Experiment ends)")
            raise _failure(
                "The response contains unexpected trials",
                why=f"Katib's hyperband service has finished its last bracket (current_s = {param.current_s}) and "
                    f"replies with no assignment; the controller asked for {count} and rejects the reply, on every "
                    f"reconcile, so the Experiment stays Running ({_SOURCE}: GetSuggestions)",
                fix="set maxTrialCount to the number of trials Hyperband creates, so the Experiment ends with its last bracket")
        param.n = count  # Katib: "This is a hack to get current request number."
        rng = np.random.default_rng([self.base_seed, len(trials)])
        out = self._make_bracket(param, trials, rng)
        if len(out) != count:
            raise _failure(
                "The response contains unexpected trials",
                why=f"the hyperband rung holds {len(out)} assignment(s) but the controller asked for {count}; Katib's "
                    "suggestion controller stores only replies of exactly the requested size and asks again on every "
                    "reconcile, with the same state, so no trial is created "
                    "(pkg/controller.v1beta1/suggestion/suggestionclient/suggestionclient.go)",
                fix="Katib's hyperband only completes its first rung: set maxTrialCount to parallelTrialCount")
        self.status_algorithm_settings = param.generate()
        return out

    def _make_bracket(self, param: HyperbandParam, trials: Sequence[Trial], rng: np.random.Generator) -> list[dict[str, Value]]:
        if param.evaluating_trials == 0:
            out = self._master(param, rng)
        else:
            out = self._child(param, trials)
        param.evaluating_trials = len(out) if param.current_i < param.current_s else 0
        if param.evaluating_trials == 0:
            param.next_bracket()
        return out

    def _resource_value(self, r: int) -> Value:
        """Katib's ``str(r)`` for the resource parameter, as a value of its space (clamped into it)."""
        p = self.space[self.settings["resource_name"]]
        if p.type == ParameterType.CATEGORICAL:
            return str(r) if str(r) in p.values else p.values[0]
        return p.snap(float(r))

    def _master(self, param: HyperbandParam, rng: np.random.Generator) -> list[dict[str, Value]]:
        """``_make_master_bracket``: n uniform draws over the box, the resource set to ``int(r)``."""
        r = int(param.r)
        out = []
        for _ in range(param.n):
            a: dict[str, Value] = {}
            for p in self.space:  # parse_parameter_configs: one uniform per number, one per category
                if p.type == ParameterType.CATEGORICAL:
                    a[p.name] = p.values[int(np.argmax(rng.uniform(0.0, 1.0, len(p.values))))]
                elif p.type == ParameterType.DISCRETE:
                    try:  # corrected: any number; Katib: int(x) of every value
                        nums = [float(v) for v in p.values] if self.corrected else [int(v) for v in p.values]
                    except ValueError as exc:
                        raise _failure(
                            f"{exc}",
                            why=f"Katib's hyperband parses every discrete value as an int (int(x) in parsing_util.py); "
                                f"{p.name} has {list(p.values)}", fix=f"make {p.name} categorical") from None
                    x = rng.uniform(min(nums), max(nums))
                    a[p.name] = p.coerce(min(nums, key=lambda v: abs(v - x)))
                elif p.type == ParameterType.INT:
                    a[p.name] = p.snap(float(np.round(rng.uniform(float(p.min), float(p.max)))))
                else:
                    a[p.name] = p.snap(float(rng.uniform(float(p.min), float(p.max))))
            a[self.settings["resource_name"]] = self._resource_value(r)
            out.append(a)
        return out

    def _child(self, param: HyperbandParam, trials: Sequence[Trial]) -> list[dict[str, Value]]:
        """``_make_child_bracket``: the top ``ceil(n_i / eta)`` of the last rung, with ``eta`` times the resource."""
        n_i = math.ceil(param.n * param.eta ** (-param.current_i))
        top = int(math.ceil(n_i / param.eta))
        param.next_rung()
        r_i = int(param.r * param.eta ** param.current_i)
        ordered = sorted(trials, key=lambda t: t.start_time if t.start_time is not None else 0.0)
        last = ordered[-param.evaluating_trials:] if len(ordered) > param.evaluating_trials else ordered
        if any(t.condition != TrialCondition.SUCCEEDED for t in last):
            raise _failure(
                "There are some trials which are not completed yet for experiment.",
                why=f"Katib's hyperband promotes from the last {param.evaluating_trials} trials by start time and needs "
                    "every one of them Succeeded (running, failed or early-stopped ones fail the call; it is retried on "
                    f"every reconcile) ({_SOURCE}: _get_top_trial)",
                fix="nothing to do while trials run; a failed or early-stopped trial of the rung stalls Hyperband for good")
        if any(t.value is None for t in last):
            raise _failure("'<' not supported between instances of 'NoneType' and 'float'",
                           why="a Succeeded trial of the rung has no objective value, and Katib sorts by it",
                           fix="make every trial report the objective metric")
        best = sorted(last, key=lambda t: t.value, reverse=self.objective.maximize)[:top]  # type: ignore[arg-type, return-value]
        resource = self.settings["resource_name"]
        return [{**dict(t.assignment), resource: self._resource_value(r_i)} for t in best]


@hookimpl
def katibsim_register_algorithms(register):
    register(Hyperband)
