"""The host's side of the suggestion contract: ask an algorithm, verify its answer, count repeats.

:func:`checked_suggest` is what the engine, the conformance kit and ``katibsim serve`` call
instead of ``Algorithm.suggest``: the host never trusts an answer, and a plugin that breaks the
contract is named in the error.
"""

from __future__ import annotations

import collections.abc as _abc
from dataclasses import dataclass
from typing import Sequence

from katibsim.algorithm import Algorithm
from katibsim.errors import ContractError, SearchSpaceExhausted, SuggestionServiceFailure
from katibsim.history_keys import HistoryKeys
from katibsim.spec.space import Value
from katibsim.trial import ReadOnlyHistory, Trial


@dataclass(frozen=True)
class SuggestResult:
    """A checked answer of ``Algorithm.suggest``.

    ``assignments`` are coerced to canonical Python types; ``duplicates`` counts assignments equal
    (by :meth:`SearchSpace.key`) to an earlier trial's or to another one in the same answer — the
    compute Katib users lose to repeated suggestions; ``exhausted`` is True when the algorithm
    raised :class:`SearchSpaceExhausted` (then ``assignments`` holds the fewer than requested that
    were left, and ``message`` its reason); ``keys`` holds each assignment's
    :meth:`SearchSpace.key` (its Katib strings in parameter order), so the host need not format it
    again.
    """

    assignments: tuple[dict[str, Value], ...]
    duplicates: int = 0
    exhausted: bool = False
    message: str | None = None
    keys: tuple[tuple[str, ...], ...] = ()


def _broken(algorithm: Algorithm, plugin: str | None, detail: str) -> ContractError:
    name = getattr(algorithm, "name", "") or type(algorithm).__name__
    who = plugin or type(algorithm).__module__
    err = ContractError(f"plugin {who} (algorithm {name}) broke the suggestion contract: {detail}")
    err.plugin = who  # type: ignore[attr-defined]
    err.algorithm = name  # type: ignore[attr-defined]
    return err


def checked_suggest(
    algorithm: Algorithm,
    trials: Sequence[Trial],
    count: int,
    *,
    plugin: str | None = None,
    history_keys: HistoryKeys | None = None,
) -> SuggestResult:
    """Ask ``algorithm`` for ``count`` assignments and verify the answer (the host never trusts one).

    The algorithm is handed ``trials`` read-only: a :class:`ReadOnlyHistory` or a tuple as is,
    anything else as a tuple copy. Checks that exactly ``count`` mappings come back (fewer only
    with :class:`SearchSpaceExhausted`), each naming every parameter once with a value of the
    right type inside the feasible space (:meth:`SearchSpace.problems`); coerces values to
    canonical types; counts duplicates against ``history_keys`` (the caller's, kept across calls;
    a fresh one from ``trials`` when None).

    ``plugin`` names the plugin that registered the algorithm (the caller knows it); without it
    the algorithm's module is named. :class:`SuggestionServiceFailure` (a Katib service failure
    the plugin reproduces) passes through unchanged; a broken answer, or any other exception
    escaping the plugin, raises :class:`ContractError` naming the plugin and the algorithm.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an int >= 0, got {count!r}")
    history = trials if isinstance(trials, (tuple, ReadOnlyHistory)) else tuple(trials)
    exhausted = False
    message: str | None = None
    try:
        raw = algorithm.suggest(history, count)
    except SearchSpaceExhausted as exc:
        raw, exhausted, message = exc.assignments, True, str(exc)
    except SuggestionServiceFailure:
        raise  # Katib's own service would fail here: the engine simulates Katib's answer to it
    except Exception as exc:  # noqa: BLE001 - a plugin bug must not look like a katibsim bug
        raise _broken(algorithm, plugin, f"suggest() raised {type(exc).__name__}: {exc}") from exc
    if isinstance(raw, (str, bytes, _abc.Mapping)) or not isinstance(raw, _abc.Sequence):
        raise _broken(algorithm, plugin, f"suggest() must return a list of assignments, got {type(raw).__name__}")
    n = len(raw)
    if exhausted and n > count:
        raise _broken(algorithm, plugin, f"asked for {count} assignments, got {n} (with SearchSpaceExhausted)")
    if not exhausted and n != count:
        raise _broken(algorithm, plugin, f"asked for {count} assignments, got {n}")
    space = algorithm.space
    out: list[dict[str, Value]] = []
    for i, a in enumerate(raw):
        if not isinstance(a, _abc.Mapping):
            raise _broken(algorithm, plugin, f"assignment {i + 1} of {n} is a {type(a).__name__}, not a mapping")
        problems = space.problems(a)
        if problems:
            raise _broken(algorithm, plugin,
                          f"assignment {i + 1} of {n} {dict(a)!r} is not feasible: " + "; ".join(problems))
        out.append(space.coerce(a))
    if history_keys is None:
        history_keys = HistoryKeys(space)
    history_keys.update(history)
    seen = history_keys.keys
    batch: set = set()
    duplicates = 0
    keys = []
    for a in out:
        k = space.key(a)
        if k in seen or k in batch:
            duplicates += 1
        batch.add(k)
        keys.append(k)
    return SuggestResult(assignments=tuple(out), duplicates=duplicates, exhausted=exhausted, message=message,
                         keys=tuple(keys))


__all__ = ["SuggestResult", "checked_suggest"]
