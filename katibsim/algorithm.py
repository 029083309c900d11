"""The suggestion contract, mirroring Katib's GetSuggestions / ValidateAlgorithmSettings.

An algorithm plugin subclasses :class:`Algorithm`. It is built from the search space, what it
needs to know of the objective, its settings (strings, as in Katib) and a seed; it validates its
settings in ``__init__`` (raising :class:`SettingsError` with Katib's messages) and answers
``suggest(trials, count)`` with exactly ``count`` assignments inside the space. The host never
trusts an answer: :func:`checked_suggest` verifies it and names the plugin that broke it.
"""

from __future__ import annotations

import collections.abc as _abc
import math
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, ClassVar, Mapping, Sequence, TypeVar

from katibsim.errors import ContractError, FieldError, SearchSpaceExhausted, SpecError
from katibsim.spec.space import Distribution, ParameterType, SearchSpace, Value

T = TypeVar("T")


class TrialCondition(StrEnum):
    """Katib's trial condition types (the last condition of a Trial's status)."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    KILLED = "Killed"
    FAILED = "Failed"
    METRICS_UNAVAILABLE = "MetricsUnavailable"
    EARLY_STOPPED = "EarlyStopped"

    @property
    def is_active(self) -> bool:
        return self in (TrialCondition.CREATED, TrialCondition.RUNNING)

    @property
    def is_completed(self) -> bool:
        return not self.is_active


@dataclass(frozen=True)
class Metric:
    """One observed metric with Katib v1beta1's min / max / latest (None = "unavailable")."""

    name: str
    min: float | None = None
    max: float | None = None
    latest: float | None = None

    def value(self, strategy: str) -> float | None:
        return {"min": self.min, "max": self.max, "latest": self.latest}[strategy]


@dataclass(frozen=True)
class Observation:
    metrics: tuple[Metric, ...] = ()

    def get(self, name: str) -> Metric | None:
        for m in self.metrics:
            if m.name == name:
                return m
        return None


@dataclass(frozen=True)
class Trial:
    """One trial as the algorithm sees it (Katib's ``api.Trial``).

    ``value`` is the objective metric under the experiment's metric strategy (None while running,
    for failed trials and when the metric is unavailable); algorithms should use it rather than
    dig into ``observation``. ``intermediate`` holds (step, value) reports of the objective metric.
    """

    name: str
    assignment: Mapping[str, Value]
    condition: TrialCondition
    value: float | None = None
    observation: Observation | None = None
    intermediate: tuple[tuple[int, float], ...] = ()
    start_time: float | None = None
    completion_time: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_value(self) -> bool:
        """True for a trial Katib's services would learn from: Succeeded or EarlyStopped with a finite value."""
        return (
            self.condition in (TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED)
            and self.value is not None
            and math.isfinite(self.value)
        )


@dataclass(frozen=True)
class ObjectiveInfo:
    """What an algorithm knows of the objective: ``spec.objective`` of the experiment."""

    metric_name: str
    maximize: bool
    goal: float | None = None
    additional_metric_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettingSpec:
    """One algorithm setting, for validation messages and ``katibsim plugins``."""

    name: str
    default: str | None
    description: str
    katib: bool = True  # a setting Katib's own service accepts (False: katibsim's addition)


@dataclass(frozen=True)
class Capabilities:
    parameter_types: frozenset[ParameterType] = frozenset(ParameterType)
    distributions: frozenset[Distribution] = frozenset(Distribution)
    double_needs_step: bool = False
    batch: bool = True
    multi_fidelity: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter_types": sorted(t.value for t in self.parameter_types),
            "distributions": sorted(d.value for d in self.distributions),
            "double_needs_step": self.double_needs_step,
            "batch": self.batch,
            "multi_fidelity": self.multi_fidelity,
        }


class SettingsError(SpecError):
    """Invalid algorithm settings. ``setting`` names the offending key (None: the whole set).

    The host maps each error to ``spec.algorithm.algorithmSettings[i].value`` (or ``.name`` when
    ``on_name``, e.g. an unknown key). ``path`` points elsewhere when the problem is not a
    setting but a field the algorithm cannot accept, e.g. grid's ``spec.maxTrialCount``.
    """

    def __init__(
        self, message: str, *, setting: str | None = None, on_name: bool = False, path: str | None = None
    ):
        self.setting = setting
        self.on_name = on_name
        self.message = message
        self.path = path
        super().__init__([FieldError(path=path or "spec.algorithm.algorithmSettings", message=message)])


def convert_setting(key: str, raw: str, convert: Callable[[str], T]) -> T:
    """Convert a setting string the way Katib's services do (``int(value)``, ``float(value)``).

    A failure raises :class:`SettingsError` with Katib's wording
    ``failed to validate <key>(<value>): <exception>`` (``docs/katib-behaviour.md`` §5.3).
    """
    try:
        return convert(raw)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise SettingsError(f"failed to validate {key}({raw}): {exc}", setting=key) from None


def random_state_setting(raw: str | None) -> int | None:
    """Katib's ``random_state``: an int >= 0 (hyperopt's message when negative, §5.3)."""
    if raw is None:
        return None
    value = convert_setting("random_state", raw, int)
    if value < 0:
        raise SettingsError("random_state should be great or equal than zero", setting="random_state")
    return value


class Algorithm(ABC):
    """Base class of every suggestion algorithm.

    Subclasses set ``name``, ``capabilities``, ``settings_spec`` and implement ``suggest``.
    ``__init__`` must validate settings (call ``super().__init__`` first, which rejects unknown
    keys with Katib's message ``unknown setting <k> for algorithm <name>``).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    settings_spec: ClassVar[tuple[SettingSpec, ...]] = ()
    #: False for Katib's algorithms (reproduce Katib's service, defects included); the host sets
    #: it True on the instance, before the first ``suggest``, under ``--corrected``, where a
    #: Katib-named plugin then runs the fixed behaviour (and says what it fixed).
    corrected: bool = False

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
        self.space = space
        self.objective = objective
        self.settings: dict[str, str] = dict(settings or {})
        self.seed = seed
        self.max_trial_count = max_trial_count
        self.parallel_trial_count = parallel_trial_count
        known = {s.name for s in self.settings_spec}
        for key in self.settings:
            if key not in known:
                raise SettingsError(f"unknown setting {key} for algorithm {self.name}", setting=key, on_name=True)

    def setting(self, key: str) -> str | None:
        """The user's value for ``key``, else the declared default."""
        if key in self.settings:
            return self.settings[key]
        for s in self.settings_spec:
            if s.name == key:
                return s.default
        raise KeyError(key)

    @abstractmethod
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        """Exactly ``count`` new assignments given the whole history ``trials``.

        Raise :class:`katibsim.errors.SearchSpaceExhausted` (with ``.assignments`` holding the
        fewer than ``count`` that remain) when the space has nothing new to give.
        """

    def predicted_failures(self) -> list[FieldError]:
        """Warnings ``katibsim validate`` shows before any run: where Katib's service for this
        algorithm will fail, hang or repeat itself on this experiment (severity "warning", with
        the field path, what Katib will do, why, and the fix). Default: none."""
        return []

    def introspect(self, trials: Sequence[Trial], **options: Any) -> Mapping[str, Any] | None:
        """Optional: model internals for reports (e.g. a GP's posterior over a 1-D grid)."""
        return None


# -- the host's side of the contract ---------------------------------------------------------------


class HistoryKeys:
    """The keys (:meth:`SearchSpace.key`) of every assignment in a history, kept incrementally.

    Katib sends the whole history on every call (``docs/katib-behaviour.md`` §4.2), so recomputing every key on
    every call costs O(n) per call and O(n²) per experiment. Histories only grow, so this keeps
    the keys of the prefix it has seen and adds the new trials. Two ways tell that the history
    it is given extends the one it saw:

    * a *versioned* history — the same object as last time, carrying an ``epoch`` attribute (the
      engine's read-only history) that has not changed. The owner of such a history promises that
      while ``epoch`` stays the same, entries are only appended at the end or replaced by a trial
      with the same name and assignment (a new condition or observation); removing an entry
      changes ``epoch``. Nothing is probed then: an update costs O(new trials).
    * any other sequence — the prefix is recognised by the name and assignment of its first,
      middle and last trial.

    Any mismatch rebuilds from scratch (``update`` then reports ``rebuilt=True``), so an unrelated
    history never reuses stale keys. Trials whose assignment is not a point of the space are
    skipped.
    """

    def __init__(self, space: SearchSpace, key: Callable[[Mapping[str, Value]], Any] | None = None):
        self.space = space
        self._key = key or space.key
        self.keys: set = set()
        self._n = 0
        self._probes: tuple | None = ()  # None: not taken (the last update was a versioned one)
        self._source: "weakref.ref | None" = None  # the versioned history of the last update
        self._epoch: Any = None

    def _probe(self, trials: Sequence[Trial], n: int) -> tuple:
        if n == 0:
            return ()
        idx = sorted({0, n // 2, n - 1})
        return tuple((i, trials[i].name, dict(trials[i].assignment)) for i in idx)

    def _prefix_matches(self, trials: Sequence[Trial]) -> bool:
        """True when the probes taken at the last update still describe ``trials``' first ``_n``."""
        if self._probes is None:
            return False
        for i, name, assignment in self._probes:
            t = trials[i]
            if t.name != name:
                return False
            a = t.assignment
            if (a if type(a) is dict else dict(a)) != assignment:
                return False
        return True

    def _versioned_source(self, trials: Sequence[Trial]) -> Any:
        """The epoch of ``trials`` when it is the versioned history of the last update, else None."""
        epoch = getattr(trials, "epoch", None)
        if epoch is None or self._source is None or self._source() is not trials or epoch != self._epoch:
            return None
        return epoch

    def update(self, trials: Sequence[Trial]) -> bool:
        """Bring ``keys`` up to date with ``trials``; True when the cache had to be rebuilt."""
        n = self._n
        epoch = getattr(trials, "epoch", None)
        if epoch is not None and epoch == self._epoch and n <= len(trials) and self._source is not None \
                and self._source() is trials:
            # The versioned history seen last time, only grown since (the engine's every call).
            self._add(trials, n)
            self._n = len(trials)
            return False
        rebuilt = False
        if n > len(trials):
            rebuilt = True
        elif n and self._versioned_source(trials) is None and not self._prefix_matches(trials):
            rebuilt = True
        if rebuilt:
            self.keys = set()
            n = 0
        self._add(trials, n)
        self._n = len(trials)
        if epoch is not None:
            try:
                self._source, self._epoch, self._probes = weakref.ref(trials), epoch, None
                return rebuilt
            except TypeError:  # not weak-referenceable: probe it like any sequence
                pass
        self._source, self._epoch = None, None
        self._probes = self._probe(trials, self._n)
        return rebuilt

    def _add(self, trials: Sequence[Trial], n: int) -> None:
        """Add the keys of ``trials[n:]`` (:meth:`key_of`, inlined: it runs once per trial)."""
        keys, key = self.keys, self._key
        for t in trials[n:] if n else trials:
            try:
                k = key(t.assignment)
            except (KeyError, TypeError, ValueError):
                continue
            if k is not None:
                keys.add(k)

    def key_of(self, assignment: Mapping[str, Value]) -> Any:
        """The key of one assignment, None when it does not parse as a point of the space."""
        try:
            return self._key(assignment)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class SuggestResult:
    """A checked answer of ``Algorithm.suggest``.

    ``assignments`` are coerced to canonical Python types; ``duplicates`` counts assignments equal
    (by :meth:`SearchSpace.key`) to an earlier trial's or to another one in the same answer — the
    compute Katib users lose to repeated suggestions (``docs/katib-behaviour.md`` §9 item 6); ``exhausted`` is True
    when the algorithm raised :class:`SearchSpaceExhausted` (then ``assignments`` holds the fewer
    than requested that were left, and ``message`` its reason); ``keys`` holds each assignment's
    :meth:`SearchSpace.key` (its Katib strings in parameter order), so the host need not format it
    again.
    """

    assignments: tuple[dict[str, Value], ...]
    duplicates: int = 0
    exhausted: bool = False
    message: str | None = None
    keys: tuple[tuple[str, ...], ...] = ()  # SearchSpace.key of each assignment: its Katib strings


class FastFeasible:
    """A shortcut of :meth:`SearchSpace.problems` for the common parameter kinds, never more lenient.

    ``self(a)`` is True only when ``a`` names exactly the space's parameters and every value is a
    ``float`` in [min, max] of a double without step, an ``int`` in [min, max] of an int without
    step, or one of a categorical's strings — each a case where ``problems(a)`` is empty and
    :meth:`SearchSpace.coerce` changes no value. Anything else (False) goes through ``problems``
    and ``coerce`` themselves. The host checks every answer of every call; most are this simple.
    """

    _DOUBLE, _INT, _CATEGORICAL = 0, 1, 2

    def __init__(self, space: SearchSpace) -> None:
        checks = []
        usable = True
        for p in space:
            if p.type == ParameterType.CATEGORICAL:
                checks.append((p.name, self._CATEGORICAL, 0.0, 0.0, frozenset(p.values)))
            elif p.type in (ParameterType.DOUBLE, ParameterType.INT) and p.step is None:
                lo, hi = p.bounds
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    usable = False
                kind = self._DOUBLE if p.type == ParameterType.DOUBLE else self._INT
                checks.append((p.name, kind, lo, hi, frozenset()))
            else:
                usable = False
        self.usable = usable
        self._checks = tuple(checks)
        self._n = len(checks)

    def __call__(self, a: Mapping[str, object]) -> bool:
        if not self.usable or len(a) != self._n:
            return False
        for name, kind, lo, hi, values in self._checks:
            if name not in a:
                return False
            v = a[name]
            t = type(v)
            if kind == 0:  # _DOUBLE (literals: this runs for every parameter of every answer)
                if t is not float or not lo <= v <= hi:  # NaN fails the comparison
                    return False
            elif kind == 1:  # _INT
                if t is not int or not lo <= v <= hi:
                    return False
            elif t is not str or v not in values:  # _CATEGORICAL
                return False
        return True


class FastKey:
    """:meth:`SearchSpace.key` without its per-value dispatch, for values already in canonical type.

    ``Parameter.format`` is Python ``str()`` for a ``float`` of a double, an ``int`` of an int and
    a ``str`` of a categorical (Katib's services stringify that way); any other value (numpy
    scalars, a discrete parameter's numbers, ...) goes through ``Parameter.format`` itself, so the
    key — and any exception — is exactly ``space.key``'s.
    """

    def __init__(self, space: SearchSpace) -> None:
        plain = {ParameterType.DOUBLE: float, ParameterType.INT: int, ParameterType.CATEGORICAL: str}
        self._plan = tuple((p.name, plain.get(p.type), p.format) for p in space)

    def __call__(self, a: Mapping[str, Value]) -> tuple[str, ...]:
        out = []
        for name, plain, fmt in self._plan:
            v = a[name]
            out.append(str(v) if type(v) is plain else fmt(v))
        return tuple(out)


class _HostCache:
    """What :func:`checked_suggest` keeps per algorithm object: the history's keys, the shortcuts."""

    __slots__ = ("space", "names", "history", "feasible", "key")

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.names = space.names
        self.key = FastKey(space)
        self.history = HistoryKeys(space, key=self.key)
        self.feasible = FastFeasible(space)


# Per-algorithm-object caches, so the engine's repeated calls stay O(new trials).
_HOST_CACHE: "weakref.WeakKeyDictionary[Algorithm, _HostCache]" = weakref.WeakKeyDictionary()


def _host_cache(algorithm: Algorithm) -> _HostCache:
    try:
        cache = _HOST_CACHE.get(algorithm)
        if cache is None or cache.space is not algorithm.space:
            cache = _HostCache(algorithm.space)
            _HOST_CACHE[algorithm] = cache
    except TypeError:  # not weak-referenceable (__slots__): no cache
        cache = _HostCache(algorithm.space)
    return cache


def _plugin_name(algorithm: Algorithm, plugin: str | None) -> str:
    if plugin:
        return plugin
    try:
        from katibsim import plugins  # late: the host imports this module

        owner = plugins.owner_of(type(algorithm))
        if owner:
            return owner
    except Exception:  # noqa: BLE001 - naming the culprit must never fail
        pass
    return type(algorithm).__module__


def _broken(algorithm: Algorithm, plugin: str | None, detail: str) -> ContractError:
    name = getattr(algorithm, "name", "") or type(algorithm).__name__
    who = _plugin_name(algorithm, plugin)
    err = ContractError(f"plugin {who} (algorithm {name}) broke the suggestion contract: {detail}")
    err.plugin = who  # type: ignore[attr-defined]
    err.algorithm = name  # type: ignore[attr-defined]
    return err


def checked_suggest(
    algorithm: Algorithm, trials: Sequence[Trial], count: int, *, plugin: str | None = None
) -> SuggestResult:
    """Ask ``algorithm`` for ``count`` assignments and verify the answer (the host never trusts one).

    Checks that exactly ``count`` mappings come back (fewer only with
    :class:`SearchSpaceExhausted`), each naming every parameter once with a value of the right
    type inside the feasible space (:meth:`SearchSpace.problems`); coerces values to canonical
    types; counts duplicates. A broken answer, or any other exception escaping the plugin, raises
    :class:`ContractError` naming the plugin and the algorithm.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an int >= 0, got {count!r}")
    # A history that declares itself read-only (the engine's, kept incrementally) is passed as is:
    # copying it on every call would make a run of n trials cost O(n²).
    history = trials if isinstance(trials, tuple) or getattr(trials, "read_only", False) else tuple(trials)
    exhausted = False
    message: str | None = None
    try:
        raw = algorithm.suggest(history, count)
    except SearchSpaceExhausted as exc:
        raw, exhausted, message = exc.assignments, True, str(exc)
    except Exception as exc:  # noqa: BLE001 - a plugin bug must not look like a katibsim bug
        raise _broken(algorithm, plugin, f"suggest() raised {type(exc).__name__}: {exc}") from exc
    # collections.abc, not typing: the same test, without typing's slow isinstance hook (per call).
    if type(raw) is not list and (isinstance(raw, (str, bytes, _abc.Mapping)) or not isinstance(raw, _abc.Sequence)):
        raise _broken(algorithm, plugin, f"suggest() must return a list of assignments, got {type(raw).__name__}")
    n = len(raw)
    if exhausted and n > count:
        raise _broken(algorithm, plugin, f"asked for {count} assignments, got {n} (with SearchSpaceExhausted)")
    if not exhausted and n != count:
        raise _broken(algorithm, plugin, f"asked for {count} assignments, got {n}")
    space = algorithm.space
    cache = _host_cache(algorithm)
    feasible = cache.feasible
    out: list[dict[str, Value]] = []
    for i, a in enumerate(raw):
        if type(a) is not dict and not isinstance(a, _abc.Mapping):
            raise _broken(algorithm, plugin, f"assignment {i + 1} of {n} is a {type(a).__name__}, not a mapping")
        if feasible(a):
            # Values already of their canonical type: SearchSpace.coerce would copy them unchanged.
            out.append({name: a[name] for name in cache.names})
            continue
        problems = space.problems(a)
        if problems:
            raise _broken(algorithm, plugin,
                          f"assignment {i + 1} of {n} {dict(a)!r} is not feasible: " + "; ".join(problems))
        out.append(space.coerce(a))
    cache.history.update(history)
    seen = cache.history.keys
    key = cache.key
    batch: set = set()
    duplicates = 0
    keys = []
    for a in out:
        k = key(a)
        if k in seen or k in batch:
            duplicates += 1
        batch.add(k)
        keys.append(k)
    return SuggestResult(assignments=tuple(out), duplicates=duplicates, exhausted=exhausted, message=message,
                         keys=tuple(keys))
