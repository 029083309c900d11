"""Katib's TEXT parsing (StdOut and File collectors): filters, timestamps, one line at a time.

Semantics of ``parseLogsInTextFormat`` (docs/katib-behaviour.md §6.2):
- the text is split at "\\n" only (a "\\r" stays on the line);
- a line is looked at only if it contains one of the metric names as a substring;
- if the text before the first space parses as Go's RFC3339Nano, it is the timestamp (the
  original string), else the timestamp is ``0001-01-01T00:00:00Z``;
- every filter is applied with find-all; group 1 (trimmed) is the name, group 2 (trimmed) the
  value; a match counts only if the name *equals* a metric name. Matches with fewer than two
  groups are ignored. Values are not checked: ``accuracy=abc`` gives the value "".
- user filters (``metricsFormat``) replace the default. Katib passes them to the collector
  joined with ";" and splits them again, so a filter containing ";" falls apart; a piece that no
  longer compiles makes the collector crash (a nil regexp) and report nothing.

:class:`TextLineParser` consumes text as it arrives (a running process); feeding a whole log
gives exactly what Katib's one-shot parse of the finished file gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from katibsim.collectors.gocompat import ZERO_TIMESTAMP, go_parse_rfc3339, go_trim_space
from katibsim.collectors.goregex import (
    DEFAULT_FILTER,
    GoRegex,
    GoRegexError,
    compile_go,
    find_all_submatch,
    has_two_subexpressions,
)
from katibsim.collectors.lines import LineParser
from katibsim.collectors.model import MetricLog


@dataclass(frozen=True)
class TextFilters:
    """The filters Katib's collector ends up with for a ``metricsFormat`` list.

    ``regexes`` holds one entry per piece after Katib's ";" round trip; ``None`` for a piece that
    does not compile (the collector then crashes). ``split_at_semicolon`` names the entries
    that were cut into pieces.
    """

    sources: tuple[str, ...]
    regexes: tuple[GoRegex | None, ...]
    default: bool
    split_at_semicolon: tuple[str, ...] = ()

    @property
    def crash(self) -> str | None:
        """Why Katib's collector would crash on these filters (None if it would not)."""
        for src, rx in zip(self.sources, self.regexes):
            if rx is None:
                return (
                    f"filter piece {src!r} does not compile: Katib joins metricsFormat entries with ';' "
                    "and splits them again, so a ';' inside a filter breaks it and the collector crashes"
                )
        return None


def compile_filters(metrics_format: Sequence[str] | None) -> TextFilters:
    """Katib's webhook check (§2.2) then the collector's ";" round trip (§6.1, §6.2).

    Raises :class:`GoRegexError` (an InputError) for an entry Katib's webhook rejects: one that is
    not a valid Go regexp, or that lacks "two top subexpressions" (Katib only checks for two
    ``(...)`` pairs in the text).
    """
    entries = list(metrics_format or ())
    if not entries:
        return TextFilters(sources=(DEFAULT_FILTER,), regexes=(compile_go(DEFAULT_FILTER),), default=True)
    for entry in entries:
        compile_go(entry)  # raises with Go's reason
        if not has_two_subexpressions(entry):
            raise GoRegexError(entry, "two top subexpressions are required")
    pieces = ";".join(entries).split(";")
    regexes: list[GoRegex | None] = []
    for piece in pieces:
        try:
            regexes.append(compile_go(piece))
        except GoRegexError as err:
            if not err.katib_rejects:
                raise
            regexes.append(None)
    return TextFilters(
        sources=tuple(pieces),
        regexes=tuple(regexes),
        default=False,
        split_at_semicolon=tuple(e for e in entries if ";" in e),
    )


@dataclass(frozen=True)
class FilterMatch:
    """One find-all match of one filter on one line."""

    filter_index: int
    start: int
    end: int
    groups: tuple[str, ...]  # group 0 (the whole match), 1, 2, ...
    name: str | None  # trimmed group 1 (None: fewer than two groups, Katib skips the match)
    value: str | None
    kept: bool


@dataclass(frozen=True)
class TextLineTrace:
    """Everything Katib's TEXT parser did with one line; explain.py turns it into words."""

    lineno: int
    line: str
    mentioned: tuple[str, ...]  # metric names found as substrings (empty: line skipped)
    timestamp: str
    first_token: str | None  # the text before the first space (None: the line has no space)
    matches: tuple[FilterMatch, ...] = ()

    @property
    def logs(self) -> tuple[MetricLog, ...]:
        where = f"line {self.lineno}"
        return tuple(
            MetricLog(timestamp=self.timestamp, name=m.name, value=m.value, where=where)  # type: ignore[arg-type]
            for m in self.matches
            if m.kept
        )


def line_timestamp(line: str) -> tuple[str, str | None]:
    """The timestamp Katib gives a line, and the first space-separated token it tried."""
    head, sep, _ = line.partition(" ")
    if not sep:
        return ZERO_TIMESTAMP, None
    return (head if go_parse_rfc3339(head) is not None else ZERO_TIMESTAMP), head


def parse_line(line: str, lineno: int, metric_names: Sequence[str], filters: TextFilters) -> TextLineTrace:
    """Katib's TEXT parse of one line (§6.2)."""
    mentioned = tuple(m for m in metric_names if m in line)
    if not mentioned:
        return TextLineTrace(lineno=lineno, line=line, mentioned=(), timestamp=ZERO_TIMESTAMP, first_token=None)
    timestamp, first_token = line_timestamp(line)
    names = set(metric_names)
    matches: list[FilterMatch] = []
    for index, regex in enumerate(filters.regexes):
        if regex is None:
            continue
        for start, end, groups in find_all_submatch(regex, line):
            if len(groups) < 3:
                matches.append(FilterMatch(index, start, end, tuple(groups), None, None, False))
                continue
            name = go_trim_space(groups[1])
            value = go_trim_space(groups[2])
            matches.append(FilterMatch(index, start, end, tuple(groups), name, value, name in names))
    return TextLineTrace(
        lineno=lineno, line=line, mentioned=mentioned, timestamp=timestamp, first_token=first_token, matches=tuple(matches)
    )


class TextLineParser(LineParser[TextLineTrace]):
    """Incremental TEXT parser: ``feed`` text as a process writes it, ``close`` at the end.

    ``feed`` returns the metric logs of the lines it completed. Line numbers start at 1. With
    ``keep_traces=False`` only the logs are kept (for long-running processes); with
    ``skip_unmentioned`` lines that mention no metric name, in any case, are only counted.
    """

    def __init__(
        self,
        metric_names: Sequence[str],
        filters: TextFilters | Sequence[str] | None = None,
        *,
        keep_traces: bool = True,
        on_trace: Callable[[TextLineTrace], None] | None = None,
        skip_unmentioned: bool = False,
    ):
        super().__init__(metric_names, keep_traces=keep_traces, on_trace=on_trace)
        if skip_unmentioned:
            # Lines that name no metric even ignoring case: Katib skips them, and there is nothing
            # to explain (a case-insensitive mention is explained: "Accuracy" is not "accuracy").
            lowered = tuple(m.lower() for m in self.metric_names)

            def unmentioned(line: str) -> bool:
                low = line.lower()
                return not any(m in low for m in lowered)

            self._skippable = unmentioned
        self.filters = filters if isinstance(filters, TextFilters) else compile_filters(filters)

    def _parse_line(self, line: str, lineno: int) -> TextLineTrace:
        return parse_line(line, lineno, self.metric_names, self.filters)


def parse_text(text: str, metric_names: Sequence[str], metrics_format: Sequence[str] | TextFilters | None = None) -> TextLineParser:
    """Parse a whole log (a finished file or a process's captured output); returns the closed parser."""
    parser = TextLineParser(metric_names, metrics_format)
    parser.feed(text)
    parser.close()
    return parser
