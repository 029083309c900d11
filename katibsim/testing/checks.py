"""The suggestion contract as small named checks (scikit-learn's ``check_estimator`` style).

Each ``check_*`` takes the algorithm *class* (plus the settings to build it with) and raises
``AssertionError`` whose message starts with ``[check_name]`` and states the rule that broke.
Property checks draw spaces and histories with hypothesis (:mod:`katibsim.testing.strategies`),
derandomised so a failure reproduces; ``KATIBSIM_KIT_EXAMPLES`` (or pytest's
``--katibsim-kit-examples``) raises the number of examples from the fast default.
"""

from __future__ import annotations

import functools
import math
import os
import pickle
from typing import Any, Callable, Iterable, Mapping, Sequence

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st

from katibsim.algorithm import (
    Algorithm,
    Capabilities,
    ObjectiveInfo,
    SettingsError,
    SettingSpec,
    Trial,
    TrialCondition,
)
from katibsim.suggest_check import SuggestResult, checked_suggest
from katibsim.trial import ReadOnlyHistory
from katibsim.errors import SuggestionServiceFailure, ContractError, SearchSpaceExhausted
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import ParameterType, SearchSpace
from katibsim.testing import strategies as kst

DEFAULT_EXAMPLES = 10
SEED = 20240607
_configured_examples: int | None = None


def configure(*, max_examples: int | None = None) -> None:
    """Set the default number of hypothesis examples per property check (pytest option)."""
    global _configured_examples
    _configured_examples = max_examples


def examples(max_examples: int | None = None) -> int:
    if max_examples is not None:
        return max_examples
    env = os.environ.get("KATIBSIM_KIT_EXAMPLES")
    if env:
        return int(env)
    return _configured_examples or DEFAULT_EXAMPLES


def _fail(rule: str, message: str) -> None:
    raise AssertionError(f"[{rule}] {message}")


def _property(
    rule: str, strategy: st.SearchStrategy, body: Callable[[Any], None], max_examples: int | None, shrink: bool = True
) -> None:
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])

    @hsettings(
        max_examples=examples(max_examples),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=phases,
    )
    @given(strategy)
    def run(case):
        body(case)

    run()


def _build(rule: str, cls: type[Algorithm], space: SearchSpace, objective: ObjectiveInfo, settings, seed, **kw) -> Algorithm:
    try:
        return cls(space, objective, dict(settings or {}), seed, **kw)
    except SettingsError as exc:
        _fail(rule, f"{cls.name}: rejected settings {dict(settings or {})} on a space it declares it supports "
                    f"({_describe_space(space)}): {exc.message}")
    except Exception as exc:  # noqa: BLE001
        _fail(rule, f"{cls.name}: could not be built on a space it declares it supports ({_describe_space(space)}): "
                    f"{type(exc).__name__}: {exc}")
    raise AssertionError("unreachable")


def _ask(rule: str, algorithm: Algorithm, history: Sequence[Trial], count: int) -> SuggestResult:
    try:
        return checked_suggest(algorithm, history, count, plugin=type(algorithm).__module__)
    except SuggestionServiceFailure:
        # A Katib-named plugin reproducing a failure of Katib's own service on this case (e.g. hyperopt
        # refusing min == max): the rule cannot be checked where the real service cannot answer.
        hypothesis.reject()
    except ContractError as exc:
        _fail(rule, f"{exc} (space: {_describe_space(algorithm.space)}; history of {len(history)} trials)")
    raise AssertionError("unreachable")


def _describe_space(space: SearchSpace) -> str:
    parts = []
    for p in space:
        if p.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
            parts.append(f"{p.name} {p.type.value} {list(p.values)}")
        else:
            step = f" step {p.step}" if p.step is not None else ""
            parts.append(f"{p.name} {p.type.value} [{p.min}, {p.max}]{step} {p.distribution.value}")
    return "; ".join(parts)


def _keys(space: SearchSpace, assignments: Iterable[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    return [space.key(a) for a in assignments]


def _legit_exhaustion(rule: str, space: SearchSpace, history: Sequence[Trial], result: SuggestResult, count: int) -> None:
    """SearchSpaceExhausted is only allowed when every point of a finite space has been used."""
    if not result.exhausted:
        return
    size = _effective_size(space)
    if size is None:
        _fail(rule, f"raised SearchSpaceExhausted on an infinite space ({_describe_space(space)})")
    used = {space.key(t.assignment) for t in history if space.contains(t.assignment)}
    used |= set(_keys(space, result.assignments))
    if len(used) < size:
        _fail(
            rule,
            f"raised SearchSpaceExhausted with {len(result.assignments)} of {count} assignments while "
            f"{size - len(used)} of the {size} points were never suggested ({_describe_space(space)})",
        )


def _effective_size(space: SearchSpace) -> int | None:
    """Number of distinct points; a double with min == max is one point even without a step."""
    total = 1
    for p in space:
        if p.type == ParameterType.DOUBLE and p.step is None:
            if float(p.min) != float(p.max):
                return None
            continue
        total *= p.cardinality() or 1
    return total


def _settings_of(settings: Mapping[str, str] | None) -> dict[str, str]:
    return dict(settings or {})


# -- the checks ------------------------------------------------------------------------------------


def check_declaration(algorithm_class: type[Algorithm], settings=None, **_: Any) -> None:
    """Rule: an algorithm is an Algorithm subclass with a name, Capabilities and SettingSpecs,
    and builds with its defaults and with each declared default given explicitly."""
    rule = "check_declaration"
    cls = algorithm_class
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
        _fail(rule, f"{cls!r} is not a subclass of katibsim.algorithm.Algorithm")
    if not isinstance(cls.name, str) or not cls.name or cls.name != cls.name.strip():
        _fail(rule, f"{cls.__name__}.name must be the non-empty algorithmName, got {cls.name!r}")
    if not isinstance(cls.capabilities, Capabilities):
        _fail(rule, f"{cls.name}: capabilities must be a katibsim.algorithm.Capabilities")
    names = [s.name for s in cls.settings_spec]
    if not all(isinstance(s, SettingSpec) for s in cls.settings_spec) or len(set(names)) != len(names):
        _fail(rule, f"{cls.name}: settings_spec must be SettingSpec entries with unique names, got {cls.settings_spec!r}")
    for s in cls.settings_spec:
        if s.default is not None and not isinstance(s.default, str):
            _fail(rule, f"{cls.name}: the default of setting {s.name} must be a string (as in Katib), got {s.default!r}")
    space = _simple_space(cls.capabilities)
    objective = ObjectiveInfo(kst.OBJECTIVE, maximize=True)
    _build(rule, cls, space, objective, settings, SEED)
    for s in cls.settings_spec:
        if s.default is not None:
            merged = {**_settings_of(settings), s.name: s.default}
            _build(rule, cls, space, objective, merged, SEED)


def check_in_space(algorithm_class: type[Algorithm], settings=None, *, max_examples: int | None = None, shrink: bool = True, **_: Any) -> None:
    """Rule: every suggested assignment names each parameter once with a feasible value of the
    right type (inside [min, max], on the step grid, in the list)."""
    rule = "check_in_space"
    cls = algorithm_class

    def body(case):
        space, objective, history, count = case
        alg = _build(rule, cls, space, objective, settings, SEED)
        _ask(rule, alg, history, count)  # checked_suggest verifies containment and types

    _property(rule, kst.cases(cls.capabilities), body, max_examples, shrink)


def check_exact_count(algorithm_class: type[Algorithm], settings=None, *, max_examples: int | None = None, shrink: bool = True, **_: Any) -> None:
    """Rule: suggest(trials, count) returns exactly count assignments; fewer only by raising
    SearchSpaceExhausted, and only when every point of a finite space has been used."""
    rule = "check_exact_count"
    cls = algorithm_class

    def body(case):
        space, objective, history, count = case
        alg = _build(rule, cls, space, objective, settings, SEED)
        result = _ask(rule, alg, history, count)
        _legit_exhaustion(rule, space, history, result, count)

    _property(rule, kst.cases(cls.capabilities, max_count=7), body, max_examples, shrink)


def check_deterministic(algorithm_class: type[Algorithm], settings=None, *, max_examples: int | None = None, shrink: bool = True, **_: Any) -> None:
    """Rule: two algorithms built with the same seed give the same answer to the same history."""
    rule = "check_deterministic"
    cls = algorithm_class

    def body(case):
        space, objective, history, count = case
        first = _ask(rule, _build(rule, cls, space, objective, settings, SEED), history, count)
        second = _ask(rule, _build(rule, cls, space, objective, settings, SEED), history, count)
        if _keys(space, first.assignments) != _keys(space, second.assignments):
            _fail(rule, f"same seed, same history of {len(history)} trials, different answers: "
                        f"{list(first.assignments)} then {list(second.assignments)}")

    _property(rule, kst.cases(cls.capabilities), body, max_examples, shrink)


def _value(space: SearchSpace, assignment: Mapping[str, Any]) -> float:
    u = space.to_unit(assignment)
    return float(sum((x - 0.3) ** 2 for x in u))


def _complete(space: SearchSpace, history: list[Trial], round_: int) -> list[Trial]:
    """Finish the running trials of a simulated run: most succeed, some fail, one stops early."""
    out = []
    for i, t in enumerate(history):
        if t.condition != TrialCondition.RUNNING:
            out.append(t)
            continue
        kind = (i + round_) % 5
        if kind == 3:
            out.append(Trial(t.name, t.assignment, TrialCondition.FAILED))
        elif kind == 4:
            v = _value(space, t.assignment)
            out.append(Trial(t.name, t.assignment, TrialCondition.EARLY_STOPPED, v, intermediate=((1, v + 1), (2, v))))
        else:
            out.append(Trial(t.name, t.assignment, TrialCondition.SUCCEEDED, _value(space, t.assignment)))
    return out


def _run(rule: str, alg: Algorithm, rounds: int, per_round: int) -> list[Trial]:
    """Drive ``alg`` like the controller: ask, run, complete; return the history."""
    space = alg.space
    history: list[Trial] = []
    for r in range(rounds):
        result = _ask(rule, alg, history, per_round)
        for a in result.assignments:
            history.append(Trial(f"run-{len(history)}", a, TrialCondition.RUNNING))
        if result.exhausted:
            break
        # Leave the newest trial running, like a slow trial on a cluster.
        done = _complete(space, history[:-1], r)
        history = done + history[-1:]
    return history


def check_rebuild_same_answer(algorithm_class: type[Algorithm], settings=None, *, max_examples: int | None = None, shrink: bool = True, **_: Any) -> None:
    """Rule: an algorithm rebuilt from the same history and seed answers like the one that has been
    running (Katib restarts suggestion services; state may be a cache, never the truth)."""
    rule = "check_rebuild_same_answer"
    cls = algorithm_class

    def body(case):
        space, objective, rounds = case
        running = _build(rule, cls, space, objective, settings, SEED)
        history = _run(rule, running, rounds, 2)
        again = _ask(rule, running, history, 2)
        rebuilt = _ask(rule, _build(rule, cls, space, objective, settings, SEED), history, 2)
        if _keys(space, again.assignments) != _keys(space, rebuilt.assignments):
            _fail(rule, f"after {len(history)} trials the running algorithm suggests {list(again.assignments)} but "
                        f"one rebuilt from the same history and seed suggests {list(rebuilt.assignments)}")

    # Up to 16 trials, so model-based algorithms get past their random start-up.
    strategy = st.tuples(kst.search_spaces(cls.capabilities), kst.objectives(), st.integers(1, 8))
    _property(rule, strategy, body, max_examples, shrink)


def check_history_with_failed_nan_running_earlystopped(
    algorithm_class: type[Algorithm], settings=None, *, max_examples: int | None = None, shrink: bool = True, **_: Any
) -> None:
    """Rule: a history with failed, killed, metrics-unavailable, running, created and early-stopped
    trials, and NaN / infinite / missing objective values, gets a valid answer, not an exception."""
    rule = "check_history_with_failed_nan_running_earlystopped"
    cls = algorithm_class

    @st.composite
    def awkward(draw):
        space = draw(kst.search_spaces(cls.capabilities))
        pick = kst.assignments(space)
        fixed = [
            Trial("ok", draw(pick), TrialCondition.SUCCEEDED, 1.0),
            Trial("nan", draw(pick), TrialCondition.SUCCEEDED, math.nan),
            Trial("inf", draw(pick), TrialCondition.SUCCEEDED, math.inf),
            Trial("-inf", draw(pick), TrialCondition.SUCCEEDED, -math.inf),
            Trial("novalue", draw(pick), TrialCondition.SUCCEEDED, None),
            Trial("failed", draw(pick), TrialCondition.FAILED),
            Trial("killed", draw(pick), TrialCondition.KILLED),
            Trial("unavailable", draw(pick), TrialCondition.METRICS_UNAVAILABLE),
            Trial("running", draw(pick), TrialCondition.RUNNING, intermediate=((1, 0.5),)),
            Trial("created", draw(pick), TrialCondition.CREATED),
            Trial("stopped", draw(pick), TrialCondition.EARLY_STOPPED, 2.0, intermediate=((1, 3.0), (2, 2.0))),
            Trial("stopped-nan", draw(pick), TrialCondition.EARLY_STOPPED, math.nan, intermediate=((1, math.nan),)),
        ]
        order = draw(st.permutations(fixed))
        extra = draw(kst.histories(space, max_size=6))
        return space, draw(kst.objectives()), tuple(order) + extra, draw(st.integers(1, 3))

    def body(case):
        space, objective, history, count = case
        alg = _build(rule, cls, space, objective, settings, SEED)
        result = _ask(rule, alg, history, count)
        _legit_exhaustion(rule, space, history, result, count)
        # Every-value-bad history: nothing learnable at all.
        bad = tuple(Trial(t.name, t.assignment, TrialCondition.SUCCEEDED, math.nan) for t in history)
        _ask(rule, _build(rule, cls, space, objective, settings, SEED), bad, count)

    _property(rule, awkward(), body, max_examples, shrink)


def check_history_unchanged(
    algorithm_class: type[Algorithm], settings=None, *, max_examples: int | None = None, shrink: bool = True, **_: Any
) -> None:
    """Rule: ``suggest`` treats its history as read-only. Given a plain list it leaves the list (its
    order, its trials, their assignments) exactly as it was; given the engine's read-only view
    (:class:`katibsim.trial.ReadOnlyHistory`, no ``sort``/``append``/item assignment) it answers."""
    rule = "check_history_unchanged"
    cls = algorithm_class

    @st.composite
    def case(draw):
        space = draw(kst.search_spaces(cls.capabilities))
        return space, draw(kst.objectives()), draw(kst.histories(space, min_size=2, max_size=12)), draw(st.integers(1, 3))

    def body(c):
        space, objective, history, count = c
        trials = list(history)
        before = [(t, t.name, dict(t.assignment)) for t in trials]
        alg = _build(rule, cls, space, objective, settings, SEED)
        try:
            alg.suggest(trials, count)
        except (SearchSpaceExhausted, SuggestionServiceFailure):
            pass  # a Katib-named plugin reproducing its service's failure: the history must still be intact
        except Exception as exc:  # noqa: BLE001
            _fail(rule, f"{cls.name}.suggest raised {type(exc).__name__}: {exc} (history of {len(trials)} trials)")
        after = [(t, t.name, dict(t.assignment)) for t in trials]
        if len(after) != len(before) or any(a[0] is not b[0] for a, b in zip(after, before)):
            _fail(rule, f"{cls.name}.suggest reordered, added or removed trials of the history it was given "
                        f"(names before {[b[1] for b in before]}, after {[a[1] for a in after]}); copy it first")
        for (t, name, a_before), (_, _, a_after) in zip(before, after):
            if a_before != a_after:
                _fail(rule, f"{cls.name}.suggest changed the assignment of trial {name}: {a_before} -> {a_after}")
        view = ReadOnlyHistory(list(history))
        alg = _build(rule, cls, space, objective, settings, SEED)
        try:
            checked_suggest(alg, view, count, plugin=type(alg).__module__)
        except SuggestionServiceFailure:
            pass  # a reproduced failure of Katib's service: the read-only view was still accepted
        except ContractError as exc:
            _fail(rule, f"{exc} (given the engine's read-only view of {len(view)} trials)")

    _property(rule, case(), body, max_examples, shrink)


JUNK_VALUES = ("not-a-value!?", "")


def check_rejects_junk_settings(
    algorithm_class: type[Algorithm], settings=None, *, junk_exempt: Sequence[str] = (), **_: Any
) -> None:
    """Rule: an unknown setting raises SettingsError with Katib's message ``unknown setting <k> for
    algorithm <name>``; a junk value for a declared setting raises SettingsError naming that setting
    (``.setting``), so the host can point at ``algorithmSettings[i].value``."""
    rule = "check_rejects_junk_settings"
    cls = algorithm_class
    space = _simple_space(cls.capabilities)
    objective = ObjectiveInfo(kst.OBJECTIVE, maximize=False)
    base = _settings_of(settings)
    key = "no_such_setting_xyz"
    try:
        cls(space, objective, {**base, key: "1"}, SEED)
    except SettingsError as exc:
        want = f"unknown setting {key} for algorithm {cls.name}"
        if exc.message != want:
            _fail(rule, f"unknown setting: expected message {want!r}, got {exc.message!r}")
        if exc.setting != key:
            _fail(rule, f"unknown setting: SettingsError.setting should be {key!r}, got {exc.setting!r}")
    except Exception as exc:  # noqa: BLE001
        _fail(rule, f"unknown setting {key}: expected SettingsError, got {type(exc).__name__}: {exc}")
    else:
        _fail(rule, f"{cls.name} accepted the unknown setting {key}")
    for spec in cls.settings_spec:
        if spec.name in junk_exempt:
            continue
        for junk in JUNK_VALUES:
            try:
                cls(space, objective, {**base, spec.name: junk}, SEED)
            except SettingsError as exc:
                if exc.setting != spec.name and exc.path is None:
                    _fail(rule, f"{spec.name}={junk!r}: SettingsError.setting should be {spec.name!r}, got {exc.setting!r}")
                if not exc.message:
                    _fail(rule, f"{spec.name}={junk!r}: SettingsError with an empty message (Katib's own defect, §5.4)")
            except Exception as exc:  # noqa: BLE001
                _fail(rule, f"{spec.name}={junk!r}: expected SettingsError, got {type(exc).__name__}: {exc}")
            else:
                _fail(rule, f"{cls.name} accepted {spec.name}={junk!r}; validate settings in __init__ "
                            f"(or list the setting in junk_exempt if any string is valid)")


def check_pickles(algorithm_class: type[Algorithm], settings=None, **_: Any) -> None:
    """Rule: the algorithm object pickles (process pools, resumable runs), before and after use,
    and the copy answers like the original."""
    rule = "check_pickles"
    cls = algorithm_class
    space = _simple_space(cls.capabilities)
    objective = ObjectiveInfo(kst.OBJECTIVE, maximize=True)
    alg = _build(rule, cls, space, objective, settings, SEED)
    try:
        pickle.loads(pickle.dumps(alg))
    except Exception as exc:  # noqa: BLE001
        _fail(rule, f"a fresh {cls.name} does not pickle: {type(exc).__name__}: {exc}")
    history = _run(rule, alg, 3, 2)
    try:
        copy = pickle.loads(pickle.dumps(alg))
    except Exception as exc:  # noqa: BLE001
        _fail(rule, f"{cls.name} does not pickle after {len(history)} trials: {type(exc).__name__}: {exc}")
    a = _ask(rule, alg, history, 2)
    b = _ask(rule, copy, history, 2)
    if _keys(space, a.assignments) != _keys(space, b.assignments):
        _fail(rule, f"the unpickled copy suggests {list(b.assignments)}, the original {list(a.assignments)}")


def check_batch(algorithm_class: type[Algorithm], settings=None, **_: Any) -> None:
    """Rule: a batch request (Katib's current_request_number > 1) gets that many *different*
    assignments on a large space, with or without history (Katib's TPE repeats itself, #1329).
    Algorithms declaring ``batch=False`` only need the right count."""
    rule = "check_batch"
    cls = algorithm_class
    space = _large_space(cls.capabilities)
    objective = ObjectiveInfo(kst.OBJECTIVE, maximize=False)
    alg = _build(rule, cls, space, objective, settings, SEED)
    history: list[Trial] = []
    for round_ in range(3):
        result = _ask(rule, alg, history, 6)
        if len(result.assignments) != 6:
            _fail(rule, f"asked for 6 on a space of {space.size() or 'infinitely many'} points, got {len(result.assignments)}")
        keys = _keys(space, result.assignments)
        if cls.capabilities.batch and len(set(keys)) != len(keys):
            _fail(rule, f"round {round_ + 1}: a batch of 6 contains repeated assignments: {list(result.assignments)}")
        for a in result.assignments:
            history.append(Trial(f"batch-{len(history)}", a, TrialCondition.SUCCEEDED, _value(space, a)))


CHECKS: tuple[Callable[..., None], ...] = (
    check_declaration,
    check_in_space,
    check_exact_count,
    check_deterministic,
    check_rebuild_same_answer,
    check_history_with_failed_nan_running_earlystopped,
    check_history_unchanged,
    check_rejects_junk_settings,
    check_pickles,
    check_batch,
)


# -- fixed spaces ---------------------------------------------------------------------------------------


def _spec(caps: Capabilities, name: str, ptype: str, **fs: Any) -> ParameterSpec | None:
    if ParameterType(ptype) not in caps.parameter_types:
        return None
    return ParameterSpec(name, ptype, FeasibleSpace(**fs))


def _simple_space(caps: Capabilities) -> SearchSpace:
    """One parameter of each supported type, uniform, doubles with a step when required."""
    step = "0.01" if caps.double_needs_step else None
    specs = [
        _spec(caps, "lr", "double", min="0.01", max="0.1", step=step),
        _spec(caps, "layers", "int", min="1", max="5"),
        _spec(caps, "batch", "discrete", list=("16", "32", "64")),
        _spec(caps, "optimizer", "categorical", list=("sgd", "adam", "ftrl")),
    ]
    return SearchSpace.from_specs([s for s in specs if s is not None])


def _large_space(caps: Capabilities) -> SearchSpace:
    """A space with far more than 18 points: a continuous double, or a fine-stepped one.

    With a stepped double it has 1001 x 101 x 3 (about 300 000) points: a grid sampler lists and
    scans every combination on each ask (Optuna's GridSampler does), so ten times that made this one
    check take half a minute, for no stronger rule."""
    step = "0.001" if caps.double_needs_step else None
    specs = [
        _spec(caps, "x", "double", min="0", max="1", step=step),
        _spec(caps, "n", "int", min="0", max="100" if caps.double_needs_step else "1000"),
        _spec(caps, "optimizer", "categorical", list=("sgd", "adam", "ftrl")),
    ]
    return SearchSpace.from_specs([s for s in specs if s is not None])


# -- running them -----------------------------------------------------------------------------------------


def _expected(skip: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """``skip`` as {check name: reason}; every expected failure must say why (scikit-learn's rule)."""
    if isinstance(skip, Mapping):
        out = {str(k): str(v) for k, v in skip.items()}
    else:
        names = list(skip)
        if names:
            raise TypeError(f"skip= needs a reason for each check, as a mapping: {{{names[0]!r}: 'why it fails'}}")
        out = {}
    known = {c.__name__ for c in CHECKS}
    unknown = sorted(set(out) - known)
    if unknown:
        raise ValueError(f"skip= names unknown check(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    empty = sorted(k for k, v in out.items() if not v.strip())
    if empty:
        raise ValueError(f"skip= gives no reason for {', '.join(empty)}")
    return out


def checks_for(
    algorithm_class: type[Algorithm],
    *,
    settings: Mapping[str, str] | None = None,
    max_examples: int | None = None,
    junk_exempt: Sequence[str] = (),
    skip: Mapping[str, str] | Sequence[str] = (),
    shrink: bool = True,
) -> list[tuple[str, Callable[[], None]]]:
    """Every check bound to ``algorithm_class``: ``[(check_name, call), ...]``.

    ``skip`` maps a check's name to the reason it is expected to fail; that check's call carries
    the reason as ``call.expected_failure`` (None for the others), and is still run by
    :func:`check_algorithm` and :func:`parametrize_with_checks` (as an expected failure). An expected
    failure is not shrunk: only its verdict is reported, never its minimal example, and shrinking a
    failing property costs more than finding it.
    """
    expected = _expected(skip)
    out = []
    for check in CHECKS:
        call = functools.partial(
            check, algorithm_class, settings, max_examples=max_examples, junk_exempt=tuple(junk_exempt),
            shrink=shrink and check.__name__ not in expected,
        )
        functools.update_wrapper(call, check)
        call.expected_failure = expected.get(check.__name__)  # type: ignore[attr-defined]
        out.append((check.__name__, call))
    return out


def check_algorithm(algorithm_class: type[Algorithm], **options: Any) -> None:
    """Run every check (like scikit-learn's ``check_estimator``); the first failure raises. A check
    listed in ``skip`` (with its reason) may fail; its failure is not raised."""
    for _, call in checks_for(algorithm_class, **options):
        try:
            call()
        except AssertionError:
            if call.expected_failure is None:  # type: ignore[attr-defined]
                raise


def parametrize_with_checks(
    algorithms: type[Algorithm] | Sequence[type[Algorithm]],
    *,
    settings: Mapping[str, str] | None = None,
    max_examples: int | None = None,
    junk_exempt: Sequence[str] = (),
    skip: Mapping[str, str] | Sequence[str] = (),
    shrink: bool = True,
):
    """A ``pytest.mark.parametrize`` over every check of every algorithm; ids ``<name>-<check>``::

        @parametrize_with_checks(MyAlgorithm, skip={"check_batch": "Katib's TPE repeats itself (#1329)"})
        def test_contract(check):
            check()

    A check in ``skip`` is marked ``xfail`` with its reason (not dropped): the test report lists it,
    and it shows as XPASS once the algorithm passes it.
    """
    import pytest

    classes = [algorithms] if isinstance(algorithms, type) else list(algorithms)
    params, ids = [], []
    for cls in classes:
        for name, call in checks_for(cls, settings=settings, max_examples=max_examples, junk_exempt=junk_exempt, skip=skip, shrink=shrink):
            reason = call.expected_failure  # type: ignore[attr-defined]
            marks = [pytest.mark.xfail(reason=reason, raises=(AssertionError, SuggestionServiceFailure, hypothesis.errors.Unsatisfiable), strict=False)] if reason else []
            params.append(pytest.param(call, marks=marks))
            ids.append(f"{getattr(cls, 'name', '') or cls.__name__}-{name}")
    return pytest.mark.parametrize("check", params, ids=ids)
