"""The simulated clock: a priority queue of timed events and a "now" that only moves forward.

Events are ordered by (time, insertion order), so events due at the same instant come out first
in, first out — the same tie rule as Syne Tune's simulator (``docs/prior-art.md#syne-tune-simulator``).
Each event has a key (a trial name); cancelling a key drops its pending events lazily, so stopping
a trial costs O(1) and the heap never needs a linear scan.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Any, Generic, Hashable, TypeVar

P = TypeVar("P")


@dataclass(frozen=True)
class Due(Generic[P]):
    """One event taken off the queue."""

    time: float
    key: Hashable
    payload: P


class EventQueue(Generic[P]):
    """A heap of ``(time, seq, key)`` with payloads kept aside; FIFO among equal times."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Hashable]] = []
        self._live: dict[int, tuple[Hashable, Any]] = {}
        self._by_key: dict[Hashable, list[int]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._live)

    def push(self, time: float, key: Hashable, payload: P) -> None:
        if time != time:  # NaN would corrupt the heap order
            raise ValueError("event time is NaN")
        seq = next(self._seq)
        heapq.heappush(self._heap, (time, seq, key))
        self._live[seq] = (key, payload)
        seqs = self._by_key.get(key)
        if seqs is None:
            self._by_key[key] = [seq]
        else:
            seqs.append(seq)

    def cancel(self, key: Hashable) -> int:
        """Drop every pending event of ``key``; returns how many were dropped."""
        seqs = self._by_key.pop(key, ())
        for s in seqs:
            self._live.pop(s, None)
        return len(seqs)

    def _drop_dead(self) -> None:
        heap = self._heap
        while heap and heap[0][1] not in self._live:
            heapq.heappop(heap)

    def peek_time(self) -> float | None:
        """The time of the next live event, None when the queue is empty."""
        self._drop_dead()
        return self._heap[0][0] if self._heap else None

    def pop_next_instant(self, until: float | None = None) -> list[Due[P]]:
        """Every live event due at the earliest pending time, if that time is <= ``until``."""
        t, due = self.pop_next(until)
        return [Due(t, key, payload) for key, payload in due]  # type: ignore[arg-type]

    def pop_next(self, until: float | None = None) -> tuple[float | None, list[tuple[Hashable, P]]]:
        """:meth:`pop_next_instant` as ``(time, [(key, payload), ...])`` (``(None, [])`` when
        nothing is due), without a :class:`Due` per event: the simulated backend's hot path."""
        t = self.peek_time()
        if t is None or (until is not None and t > until):
            return None, []
        out: list[tuple[Hashable, P]] = []
        heap = self._heap
        live_events, by_key = self._live, self._by_key
        while heap and heap[0][0] == t:
            _, seq, key = heapq.heappop(heap)
            live = live_events.pop(seq, None)
            if live is None:
                continue
            seqs = by_key.get(key)
            if seqs is not None:
                seqs.remove(seq)
                if not seqs:
                    del by_key[key]
            out.append(live)
        return t, out


class SimulatedClock:
    """Seconds since the run started; advanced explicitly, never backwards."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    @property
    def now(self) -> float:
        return self._now

    def advance_to(self, t: float) -> None:
        if t < self._now:
            raise ValueError(f"the simulated clock cannot go back from {self._now} to {t}")
        self._now = float(t)


__all__ = ["Due", "EventQueue", "SimulatedClock"]
