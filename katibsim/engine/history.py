"""The history the engine sends to suggestion and early-stopping services, kept incrementally.

Katib sends every trial except MetricsUnavailable ones and early-stopped ones without an
observation, in creation order, on every call (``ConvertTrials`` in Katib's
``pkg/controller.v1beta1/suggestion/suggestionclient/suggestionclient.go``). Rebuilding that list
on every call would cost O(n) per call and O(n²) per run; :class:`History` keeps it as one list for
the whole run and hands services a :class:`~katibsim.trial.ReadOnlyHistory` view of it.
"""

from __future__ import annotations

from katibsim.trial import ReadOnlyHistory, Trial


class History:
    """The trials Katib sends to its services, kept in place.

    A trial's entry is replaced in place when its condition changes; a trial that leaves the
    history leaves a hole that :meth:`compact` removes (the controller calls it before every read
    by a service). :attr:`view` is the one read-only view services get, the same object for the
    whole run.

    ``epoch`` is the version :class:`katibsim.history_keys.HistoryKeys` relies on: it changes
    whenever a trial leaves the history; in between, trials are only appended, or replaced by the
    same trial (same name and assignment) in a new condition.
    """

    def __init__(self) -> None:
        self._items: list[Trial | None] = []
        self._pos: dict[str, int] = {}
        self._holes = 0
        self.epoch = 0
        self.view = ReadOnlyHistory(self._items, self)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def compact(self) -> ReadOnlyHistory:
        """Remove the holes; the read-only view, ready for a service to read."""
        if self._holes:
            items = self._items
            items[:] = [t for t in items if t is not None]
            pos = self._pos
            self._pos = {t.name: i for i, t in enumerate(items) if t.name in pos}  # type: ignore[union-attr]
            self._holes = 0
            self.epoch += 1
        return self.view

    def add(self, trial: Trial) -> None:
        self._pos[trial.name] = len(self._items)
        self._items.append(trial)

    def put(self, trial: Trial, *, final: bool = False) -> None:
        """Replace the entry of ``trial.name`` (its condition or observation changed; its
        assignment must stay the same, see ``epoch``). ``final``: the trial has ended and its
        entry will not change again, so its position need not be kept (a long run keeps only
        the positions of its running trials)."""
        pos = self._pos
        self._items[pos.pop(trial.name) if final else pos[trial.name]] = trial

    def drop(self, name: str) -> None:
        """``name`` leaves the history (a hole until the next :meth:`compact`)."""
        i = self._pos.pop(name)
        self._items[i] = None
        self._holes += 1
        self.epoch += 1


__all__ = ["History"]
