"""Katib's File collector with ``format: JSON``: one JSON object per line, string values only.

Semantics of ``parseLogsInJsonFormat`` (docs/katib-behaviour.md §6.2):
- the file is split at "\\n"; only lines of length 0 are skipped (a line of spaces, or a lone
  "\\r" from CRLF files, is an error);
- each other line is decoded with Go's ``json.Unmarshal`` into a map: a line that is not JSON,
  or is JSON but not an object (an array, a number...), makes the **whole** parse fail and the
  collector report nothing; ``null`` decodes to an empty map and is harmless;
- a metric is taken from key ``<metric>`` **only when its value is a JSON string**
  (``"accuracy": "0.9"``); ``"accuracy": 0.9`` is silently ignored by Katib — katibsim warns;
- key ``timestamp``: an RFC3339Nano string (kept as is) or a number of epoch seconds; anything
  else (or nothing) gives ``0001-01-01T00:00:00Z``. Katib turns a number's fraction digits into
  *nanoseconds as an integer*: 1700000000.5 becomes 1700000000 s + 5 ns, not + 0.5 s.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from katibsim.collectors.gocompat import (
    ZERO_TIMESTAMP,
    go_format_float,
    go_parse_int64,
    go_parse_rfc3339,
    go_unix,
)
from katibsim.collectors.lines import LineParser
from katibsim.collectors.model import MetricLog

TIMESTAMP_KEY = "timestamp"


class _GoJSONError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _GoJSONError(f"invalid character '{name[0]}' looking for beginning of value")


def _go_number(text: str) -> float:
    # Go decodes every JSON number into float64; one out of range is an error for the line.
    value = float(text)
    if math.isinf(value):
        raise _GoJSONError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def go_json_object(line: str) -> dict[str, Any]:
    """``json.Unmarshal(line, &map[string]interface{})``; raises ValueError with a Go-like reason."""
    try:
        value = json.loads(line, parse_constant=_reject_constant, parse_float=_go_number, parse_int=_go_number)
    except _GoJSONError:
        raise
    except json.JSONDecodeError as err:
        raise _GoJSONError(f"{err.msg} (column {err.colno})") from None
    except RecursionError:
        raise _GoJSONError("exceeded max depth") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool", float: "number"}.get(type(value), type(value).__name__)
        raise _GoJSONError(f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}")
    return value


def json_timestamp(value: Any) -> str | None:
    """Katib's ``parseTimestamp``: the timestamp string, or None ("Metrics will not have timestamp")."""
    if isinstance(value, str):
        return value if value and go_parse_rfc3339(value) is not None else None
    if isinstance(value, bool) or not isinstance(value, float):
        return None
    parts = go_format_float(value).split(".")
    sec = go_parse_int64(parts[0])
    if sec is None:
        return None
    nsec = 0
    if len(parts) == 2:
        parsed = go_parse_int64(parts[1])
        if parsed is None:
            return None
        nsec = parsed
    return go_unix(sec, nsec).format_rfc3339_nano()


@dataclass(frozen=True)
class JsonKey:
    """What Katib did with one metric's key on one line."""

    metric: str
    status: str  # "taken" | "number" | "other" | "absent"
    raw: Any = None
    near: str | None = None  # a key that differs only in case or surrounding spaces


@dataclass(frozen=True)
class JsonLineTrace:
    lineno: int
    line: str
    empty: bool = False
    error: str | None = None
    timestamp: str = ZERO_TIMESTAMP
    timestamp_raw: Any = None
    has_timestamp_key: bool = False
    keys: tuple[JsonKey, ...] = ()

    @property
    def logs(self) -> tuple[MetricLog, ...]:
        where = f"line {self.lineno}"
        return tuple(
            MetricLog(timestamp=self.timestamp, name=k.metric, value=k.raw, where=where) for k in self.keys if k.status == "taken"
        )


def parse_json_line(line: str, lineno: int, metric_names: Sequence[str]) -> JsonLineTrace:
    """Katib's JSON parse of one line (§6.2)."""
    if len(line) == 0:
        return JsonLineTrace(lineno=lineno, line=line, empty=True)
    try:
        obj = go_json_object(line)
    except ValueError as err:
        return JsonLineTrace(lineno=lineno, line=line, error=str(err))
    timestamp = ZERO_TIMESTAMP
    has_ts = TIMESTAMP_KEY in obj
    if has_ts:
        timestamp = json_timestamp(obj[TIMESTAMP_KEY]) or ZERO_TIMESTAMP
    keys: list[JsonKey] = []
    for metric in metric_names:
        if metric in obj:
            raw = obj[metric]
            if isinstance(raw, str):
                keys.append(JsonKey(metric, "taken", raw))
            elif isinstance(raw, float):
                keys.append(JsonKey(metric, "number", raw))
            else:
                keys.append(JsonKey(metric, "other", raw))
        else:
            near = next((k for k in obj if k != metric and k.strip().lower() == metric.lower()), None)
            keys.append(JsonKey(metric, "absent", near=near))
    return JsonLineTrace(
        lineno=lineno,
        line=line,
        timestamp=timestamp,
        timestamp_raw=obj.get(TIMESTAMP_KEY),
        has_timestamp_key=has_ts,
        keys=tuple(keys),
    )


class JsonLineParser(LineParser[JsonLineTrace]):
    """Incremental JSON-lines parser with the same ``feed``/``close`` protocol as the TEXT one.

    ``error`` is set by the first undecodable line; Katib's one-shot parse then fails as a whole,
    so :attr:`final_logs` is empty although :attr:`logs` holds what the lines gave.
    """

    def __init__(
        self, metric_names: Sequence[str], *, keep_traces: bool = True, on_trace: Callable[[JsonLineTrace], None] | None = None
    ):
        super().__init__(metric_names, keep_traces=keep_traces, on_trace=on_trace)
        self.error: str | None = None

    @property
    def final_logs(self) -> list[MetricLog]:
        return [] if self.error else list(self.logs)

    def _parse_line(self, line: str, lineno: int) -> JsonLineTrace:
        trace = parse_json_line(line, lineno, self.metric_names)
        if trace.error and self.error is None:
            self.error = f"line {trace.lineno}: {trace.error}"
        return trace


def parse_json(text: str, metric_names: Sequence[str]) -> JsonLineParser:
    """Parse a whole JSON-lines file; returns the closed parser."""
    parser = JsonLineParser(metric_names)
    parser.feed(text)
    parser.close()
    return parser
