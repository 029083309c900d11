"""HistoryKeys: the set of assignment keys of a history, kept up to date across calls.

A helper for the host and for plugins that must know which points a history already holds
(grid's walk, random's repeats on a finite space). Katib sends the whole history on every call
(``SyncAssignments``), so recomputing every key on every call would cost O(n) per call and O(n²)
per experiment.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Mapping, Sequence

from katibsim.spec.space import SearchSpace, Value
from katibsim.trial import Trial


class HistoryKeys:
    """The keys (:meth:`SearchSpace.key`) of every assignment in a history.

    Only a *versioned* history is read incrementally: the very object of the last update (the
    engine's :class:`katibsim.trial.ReadOnlyHistory`), carrying an ``epoch`` that has not changed
    since. Its owner promises that while ``epoch`` stays the same, entries are only appended at the
    end, or replaced by a trial with the same name and assignment (a new condition or
    observation); removing an entry changes ``epoch``. Then an update costs O(new trials).

    Any other history — another object, a changed epoch, a shorter one, a plain list or tuple — is
    read from scratch (``update`` returns True), so the keys are always exactly those of the
    history last given: a history unrelated to the last one never reuses its keys. Trials whose
    assignment is not a point of the space are skipped.
    """

    def __init__(self, space: SearchSpace, key: Callable[[Mapping[str, Value]], Any] | None = None):
        self.space = space
        self._key = key or space.key
        self.keys: set = set()
        self._n = 0
        self._source: "weakref.ref | None" = None  # the versioned history of the last update
        self._epoch: Any = None

    def _extends_last(self, trials: Sequence[Trial]) -> bool:
        epoch = getattr(trials, "epoch", None)
        return (epoch is not None and epoch == self._epoch and self._n <= len(trials)
                and self._source is not None and self._source() is trials)

    def update(self, trials: Sequence[Trial]) -> bool:
        """Bring ``keys`` up to date with ``trials``; True when the keys of an earlier history were
        thrown away (read from scratch)."""
        rebuilt = False
        if not self._extends_last(trials):
            rebuilt = self._n > 0 or self._source is not None
            self.keys = set()
            self._n = 0
        self._add(trials, self._n)
        self._n = len(trials)
        epoch = getattr(trials, "epoch", None)
        self._source, self._epoch = None, None
        if epoch is not None:
            try:
                self._source, self._epoch = weakref.ref(trials), epoch
            except TypeError:  # not weak-referenceable: read from scratch next time
                pass
        return rebuilt

    def _add(self, trials: Sequence[Trial], n: int) -> None:
        keys, key = self.keys, self._key
        for t in trials[n:] if n else trials:
            try:
                k = key(t.assignment)
            except (KeyError, TypeError, ValueError):
                continue
            if k is not None:
                keys.add(k)


__all__ = ["HistoryKeys"]
