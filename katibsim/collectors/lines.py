"""The incremental line feeding shared by the TEXT and JSON collectors' parsers.

Both of Katib's file parsers split the whole text at "\\n" (docs/katib-behaviour.md §6.2); :class:`LineParser`
gives the same lines when the text arrives in chunks, so a subclass only says how one line
becomes a trace carrying metric logs.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterable, Protocol, Sequence, TypeVar

from katibsim.collectors.model import MetricLog
from katibsim.errors import InputError


class LineTrace(Protocol):
    """What a parser needs of a parsed line: the metric logs it gave."""

    @property
    def logs(self) -> tuple[MetricLog, ...]: ...


T = TypeVar("T", bound=LineTrace)


class LineParser(Generic[T]):
    """Incremental parser: ``feed`` text as a process writes it, ``close`` at the end.

    ``feed`` returns the metric logs of the lines it completed. Line numbers start at 1. With
    ``keep_traces=False`` only the logs are kept (for long-running processes and big files);
    ``on_trace`` sees every line's trace as it is made, so a caller can keep what it needs of
    it. Subclasses implement :meth:`_parse_line`.
    """

    def __init__(self, metric_names: Sequence[str], *, keep_traces: bool = True, on_trace: Callable[[T], None] | None = None):
        if not metric_names:
            raise InputError("at least one metric name (the objective) is needed")
        self.metric_names = tuple(metric_names)
        self.keep_traces = keep_traces
        self.on_trace = on_trace
        self.logs: list[MetricLog] = []
        self.traces: list[T] = []
        # The unfinished line, in pieces: joined only when its "\n" arrives, so a very long line
        # fed in many chunks costs its length once, not once per chunk.
        self._pending: list[str] = []
        # A subclass may name lines that can give no log and need no explanation; they are only counted.
        self._skippable: Callable[[str], bool] | None = None
        self.skipped_lines = 0
        self._lineno = 0
        self._closed = False

    def feed(self, chunk: str) -> list[MetricLog]:
        if self._closed:
            raise InputError("the parser is closed")
        if "\n" not in chunk:
            if chunk:
                self._pending.append(chunk)
            return []
        *complete, rest = chunk.split("\n")
        if self._pending:
            complete[0] = "".join(self._pending) + complete[0]
        self._pending = [rest] if rest else []
        return self._take(complete)

    def feed_lines(self, lines: Iterable[str]) -> list[MetricLog]:
        """Feed whole lines (without their "\\n"), e.g. from a tailer that strips it."""
        if self._pending:
            raise InputError("feed_lines after a partial feed")
        return self._take(list(lines))

    def close(self) -> list[MetricLog]:
        """End of input: the last line, even without a final newline, is parsed (Go's Split)."""
        if self._closed:
            return []
        self._closed = True
        rest, self._pending = "".join(self._pending), []
        return self._take([rest])

    def _parse_line(self, line: str, lineno: int) -> T:
        raise NotImplementedError

    def _take(self, lines: list[str]) -> list[MetricLog]:
        found: list[MetricLog] = []
        skippable = self._skippable
        for line in lines:
            self._lineno += 1
            if skippable is not None and skippable(line):
                self.skipped_lines += 1
                continue
            trace = self._parse_line(line, self._lineno)
            if self.keep_traces:
                self.traces.append(trace)
            if self.on_trace is not None:
                self.on_trace(trace)
            found.extend(trace.logs)
        self.logs.extend(found)
        return found
