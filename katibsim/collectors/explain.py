"""Why a log line or an event tag did, or did not, give Katib a metric — in words.

The parsers (text.py, json_file.py, tfevent.py) record what Katib's code did; this module
reads those records and names the cause of a miss the way a Katib user needs it: ``accuracy:
0.9`` needs ``=``, ``Accuracy`` is not ``accuracy``, ``val_accuracy`` is another name, JSON
numbers are ignored, a tag is matched by prefix... Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Sequence

from katibsim.collectors.gocompat import ZERO_TIMESTAMP, go_parse_float
from katibsim.collectors.json_file import JsonLineTrace
from katibsim.collectors.model import UNAVAILABLE, Explanation, MetricLog, RawMetric
from katibsim.collectors.text import TextFilters, TextLineTrace
from katibsim.collectors.tfevent import EventFileTrace, TagMatch

# The default filter with ":" in place of "=", offered when a log prints "name: value".
COLON_FILTER = r"([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
_NAME_CHAR = re.compile(r"[\w|-]", re.ASCII)
_NUMBER_AHEAD = r"[+-]?(?:\d|\.\d)"
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_TEXT = 200


def clip(text: str, limit: int = MAX_TEXT) -> str:
    text = text.rstrip("\r")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_note(log: MetricLog) -> str | None:
    if log.value == "":
        return (
            f"'{log.name}' was taken with an empty value: the filter's value part matched nothing "
            "(e.g. 'nan', 'inf' or a word after '='); Katib stores '' — not a number, but it can become latest"
        )
    if go_parse_float(log.value) is None:
        return f"'{log.name}' value {log.value!r} is not a number: min/max skip it, but it can become latest"
    return None


def explain_text_line(trace: TextLineTrace, metric_names: Sequence[str], filters: TextFilters) -> Explanation:
    """Explain one TEXT line (StdOut, or File with format TEXT)."""
    where = f"line {trace.lineno}"
    text = clip(trace.line)
    if not trace.mentioned:
        lowered = trace.line.lower()
        for m in metric_names:
            idx = lowered.find(m.lower())
            if idx >= 0:
                seen = trace.line[idx : idx + len(m)]
                return Explanation(
                    where, text, reasons=(f"not taken: it says '{seen}', but metric names are case-sensitive (the metric is '{m}')",),
                    line=trace.lineno,
                )
        return Explanation(where, text, reasons=("skipped: mentions none of the metric names",), relevant=False, line=trace.lineno)

    taken = trace.logs
    reasons: list[str] = []
    covered: list[tuple[int, int]] = []
    for log in taken:
        note = _value_note(log)
        if note:
            reasons.append(note)
    short_filters = sorted({m.filter_index for m in trace.matches if m.name is None})
    for index in short_filters:
        reasons.append(
            f"filter {filters.sources[index]!r} matched but has fewer than two capturing groups: Katib ignores its matches"
        )
    for match in trace.matches:
        covered.append((match.start, match.end))
        if match.name is None or match.kept:
            continue
        if any(m in match.name for m in metric_names):
            reasons.append(
                f"found {clip(match.groups[0], 60)!r}, but the name is '{match.name}', not a metric name "
                "(Katib compares names exactly)"
            )
    taken_names = {log.name for log in taken}
    for metric in trace.mentioned:
        if metric in taken_names:
            continue
        reason = _why_not_text(trace.line, metric, filters, covered)
        if reason and any("uses ':'" in r for r in reasons) and "uses ':'" in reason:
            reason = reason.split(", but ")[0] + " too"
        if reason and reason not in reasons:
            reasons.append(reason)
    lowered = trace.line.lower()
    for metric in metric_names:
        if metric not in trace.mentioned and metric.lower() in lowered:
            idx = lowered.find(metric.lower())
            reasons.append(
                f"it says '{trace.line[idx : idx + len(metric)]}', but metric names are case-sensitive (the metric is '{metric}')"
            )
    if taken and trace.timestamp != ZERO_TIMESTAMP:
        reasons.append(f"timestamp {trace.timestamp} (the text before the first space)")
    elif taken and trace.first_token and _DATE_LIKE.match(trace.first_token):
        reasons.append(
            f"'{clip(trace.first_token, 40)}' is not an RFC3339 timestamp (e.g. 2024-05-01T12:00:00Z, before the "
            "first space), so these values get no timestamp: latest is then simply the last line"
        )
    if not taken and not reasons:
        reasons.append("not taken: no filter match names a metric")
    return Explanation(where, text, taken=taken, reasons=tuple(_prefix_not_taken(reasons, taken)), line=trace.lineno)


def _prefix_not_taken(reasons: list[str], taken: Sequence[MetricLog]) -> list[str]:
    if taken or not reasons or reasons[0].startswith("not taken"):
        return reasons
    return ["not taken: " + reasons[0]] + reasons[1:]


def _snippet(line: str, idx: int, metric: str) -> str:
    """The metric's mention and what follows it up to the value, e.g. "accuracy: 0.9"."""
    m = re.match(re.escape(metric) + r"""['"]?[ \t]*[:=]?[ \t]*[^\s,;}]*""", line[idx:])
    return clip(m.group(0) if m else metric, 40)


def _why_not_text(line: str, metric: str, filters: TextFilters, covered: list[tuple[int, int]]) -> str | None:
    start = 0
    reasons: list[str] = []
    while True:
        idx = line.find(metric, start)
        if idx < 0:
            break
        start = idx + 1
        end = idx + len(metric)
        if any(a <= idx and end <= b for a, b in covered):
            continue  # already explained by the match that swallowed it
        before = line[idx - 1] if idx > 0 else ""
        after_char = line[end] if end < len(line) else ""
        after = line[end:]
        if (before and _NAME_CHAR.match(before)) or (after_char and _NAME_CHAR.match(after_char) and not after.startswith("|")):
            lo = idx
            while lo > 0 and _NAME_CHAR.match(line[lo - 1]):
                lo -= 1
            hi = end
            while hi < len(line) and _NAME_CHAR.match(line[hi]):
                hi += 1
            reasons.append(f"'{line[lo:hi]}' contains '{metric}' but is another name (Katib compares names exactly)")
            continue
        if re.match(r"""['"]?\s*:\s*['"]?""" + _NUMBER_AHEAD, after) or re.match(r"""['"]\s*:""", after):
            if before in ("'", '"'):
                reasons.append(
                    f"'{before}{_snippet(line, idx, metric)}' looks like a dict or JSON: Katib's TEXT parser needs "
                    f"{metric}=value (or use the File collector with format JSON and string values)"
                )
            elif filters.default:
                reasons.append(
                    f"'{_snippet(line, idx, metric)}' uses ':', but the default filter needs name=value "
                    f"(use metricsFormat to accept 'name: value', e.g. {COLON_FILTER})"
                )
            else:
                reasons.append(f"'{_snippet(line, idx, metric)}': none of the metricsFormat filters matches it")
            continue
        if re.match(r"\s+" + _NUMBER_AHEAD, after):
            reasons.append(
                f"'{_snippet(line, idx, metric)}' has no '=' between name and value"
                + (" (the default filter needs name=value)" if filters.default else "")
            )
            continue
        if not filters.default:
            reasons.append(f"'{_snippet(line, idx, metric)}': none of the metricsFormat filters gives the name '{metric}' here")
        else:
            reasons.append(f"'{_snippet(line, idx, metric)}' is not in the form {metric}=<number>")
    return reasons[0] if reasons else None


def explain_json_line(trace: JsonLineTrace) -> Explanation:
    """Explain one line of a JSON metrics file."""
    where = f"line {trace.lineno}"
    text = clip(trace.line)
    if trace.empty:
        return Explanation(where, text, reasons=("skipped: empty line",), relevant=False, line=trace.lineno)
    if trace.error:
        blank = trace.line.strip() == ""
        why = (
            "a blank line that is not empty (spaces or a '\\r' from CRLF): Katib skips only empty lines"
            if blank
            else f"not a JSON object Katib can read ({trace.error})"
        )
        return Explanation(
            where, text,
            reasons=(f"error: {why}; Katib's collector fails on the whole file and reports no metric at all",),
            line=trace.lineno,
        )
    taken = trace.logs
    reasons: list[str] = []
    for log in taken:
        note = _value_note(log)
        if note:
            reasons.append(note)
    relevant = bool(taken)
    for key in trace.keys:
        if key.status == "number":
            relevant = True
            reasons.append(
                f"not taken: '{key.metric}' is the JSON number {key.raw!r}; Katib takes only strings "
                f"(write \"{key.metric}\": \"{key.raw!r}\")"
            )
        elif key.status == "other":
            relevant = True
            kind = {bool: "a boolean", dict: "an object", list: "an array", type(None): "null"}.get(type(key.raw), "not a string")
            reasons.append(f"not taken: '{key.metric}' is {kind}; Katib takes only string values")
        elif key.status == "absent" and key.near is not None:
            relevant = True
            reasons.append(f"not taken: key '{key.near}' is not '{key.metric}' (keys are compared exactly)")
    if taken and trace.has_timestamp_key:
        raw = trace.timestamp_raw
        if trace.timestamp == ZERO_TIMESTAMP:
            reasons.append(
                f"timestamp {raw!r} not understood (Katib wants an RFC3339 string or epoch seconds as a number): no timestamp"
            )
        elif isinstance(raw, float) and raw != int(raw):
            reasons.append(
                f"timestamp {raw!r} becomes {trace.timestamp}: Katib reads the digits after the point as nanoseconds"
            )
    if not relevant and not reasons:
        reasons.append("no metric key on this line")
    return Explanation(where, text, taken=taken, reasons=tuple(reasons), relevant=relevant, line=trace.lineno)


def explain_event_file(trace: EventFileTrace, rel: str) -> Explanation | None:
    """Explain a file that gave no tags (not an event file, unreadable); None for a file with tags."""
    if trace.tags and not trace.error:
        return None
    looks_like_events = "tfevents" in rel
    if trace.skipped:
        return Explanation(rel, "", reasons=(f"skipped: {trace.skipped}",), relevant=True, file=trace.path)
    if trace.error:
        reason = f"not loaded: {trace.error}; Katib skips the file"
    elif looks_like_events:
        reason = "no scalar or tensor events in this file" + (f" ({'; '.join(trace.notes[:2])})" if trace.notes else "")
    else:
        reason = "not an event file (the name has no 'tfevents'): nothing read"
    return Explanation(rel, "", reasons=(reason,), relevant=looks_like_events or bool(trace.error), file=trace.path)


def explain_tag(match: TagMatch, metric_names: Sequence[str], rel: str) -> Explanation:
    """Explain one tag of one event file."""
    tag = match.tag.tag
    count = len(match.tag.events)
    where = f"{rel}: {match.tag.kind} tag '{tag}' ({count} event{'' if count == 1 else 's'})"
    text = ""
    reasons: list[str] = []
    relevant = bool(match.metrics)
    for metric in match.metrics:
        last = metric.split("/")[-1]
        if tag != last:
            reasons.append(f"taken for '{metric}': the tag starts with '{last}' (Katib matches tags by prefix)")
        else:
            reasons.append(f"taken for '{metric}'")
    if match.logs and any(go_parse_float(log.value) is None for log in match.logs):
        bad = next(log.value for log in match.logs if go_parse_float(log.value) is None)
        reasons.append(f"some values are not numbers (e.g. {clip(bad, 40)!r}): min/max skip them, but they can become latest")
    for metric in metric_names:
        if metric in match.metrics:
            continue
        last = metric.split("/")[-1]
        if tag and last.lower().startswith(tag.lower()) and tag.lower() != last.lower():
            relevant = True
            reasons.append(
                f"not taken for '{metric}': the tag '{tag}' is shorter than '{last}'; Katib needs tags that start with the metric name"
            )
        elif last and last.lower() in tag.lower():
            relevant = True
            if tag.lower().startswith(last.lower()) and not tag.startswith(last):
                reasons.append(f"not taken for '{metric}': tags are case-sensitive ('{tag}' does not start with '{last}')")
            elif tag.startswith(last):
                wanted = metric.rsplit("/", 1)[0]
                folder = match.file.katib_path.rsplit("/", 1)[0]
                reasons.append(
                    f"not taken for '{metric}': the file's directory '{folder}' does not end with '{wanted}'"
                )
            else:
                reasons.append(f"not taken for '{metric}': the tag does not start with '{last}'")
    if not reasons:
        reasons.append("not taken: the tag starts with none of the metric names")
    return Explanation(where, text, taken=match.logs, reasons=tuple(reasons), relevant=relevant, file=match.file.path, tag=tag)


def objective_missing_warning(objective: str, dropped: Sequence[MetricLog]) -> str:
    msg = (
        f"objective '{objective}' was never reported: Katib's collector reports '{UNAVAILABLE}' for it "
        "and the trial becomes MetricsUnavailable"
    )
    names = sorted({log.name for log in dropped})
    if names:
        msg += f"; the other metrics it found ({', '.join(names)}) are dropped with it"
    return msg


def observation_warnings(metrics: Sequence[RawMetric], metric_names: Sequence[str]) -> list[str]:
    """Warnings about the final observation: additional metrics never seen, a non-numeric objective."""
    out: list[str] = []
    objective = metric_names[0]
    for m in metrics:
        if m.name == objective:
            if m.latest != UNAVAILABLE and go_parse_float(m.latest) is None:
                out.append(
                    f"objective '{objective}' has latest value {m.latest!r}, which is not a number: Katib still marks the "
                    "trial Succeeded and, reading it as a string metric, may make it the best trial"
                )
        elif m.latest == UNAVAILABLE and m.min == UNAVAILABLE:
            out.append(f"additional metric '{m.name}' was never reported: it stays '{UNAVAILABLE}'")
    return out


class JsonNumbers:
    """The JSON trap, gathered line by line: numbers Katib ignored, per metric (the first few kept)."""

    SHOWN = 5

    def __init__(self) -> None:
        self.hits: dict[str, list[tuple[int, object]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, trace: JsonLineTrace) -> None:
        for key in trace.keys:
            if key.status == "number":
                self.counts[key.metric] = self.counts.get(key.metric, 0) + 1
                shown = self.hits.setdefault(key.metric, [])
                if len(shown) < self.SHOWN:
                    shown.append((trace.lineno, key.raw))

    def warning(self) -> str | None:
        if not self.hits:
            return None
        parts = []
        for metric, hits in self.hits.items():
            count = self.counts[metric]
            lines = ", ".join(str(n) for n, _ in hits) + (f" and {count - len(hits)} more" if count > len(hits) else "")
            parts.append(f"'{metric}' on line{'s' if count > 1 else ''} {lines} (e.g. {hits[0][1]!r})")
        return (
            "JSON numbers ignored — Katib's JSON collector takes only string values (\"accuracy\": \"0.9\"): "
            + "; ".join(parts)
        )


def json_numbers_warning(traces: Sequence[JsonLineTrace]) -> str | None:
    """The JSON trap: numbers that Katib ignored, grouped by metric."""
    numbers = JsonNumbers()
    for trace in traces:
        numbers.add(trace)
    return numbers.warning()


def prefix_warnings(matches: Sequence[TagMatch]) -> list[str]:
    """Metrics fed by more than one distinct tag (prefix matching mixes their values)."""
    tags: dict[str, list[str]] = {}
    for m in matches:
        for metric in m.metrics:
            if m.tag.tag not in tags.setdefault(metric, []):
                tags[metric].append(m.tag.tag)
    return [
        f"metric '{metric}' takes tags {', '.join(repr(t) for t in found)} (Katib matches tags by prefix): "
        "all their values feed its min, max and latest"
        for metric, found in tags.items()
        if len(found) > 1
    ]


def mixed_timestamps_warning(logs: Sequence[MetricLog]) -> str | None:
    """Some values with a timestamp and some without: the untimestamped ones sort first (year 1)."""
    stamped = [log for log in logs if log.timestamp != ZERO_TIMESTAMP]
    if not stamped or len(stamped) == len(logs):
        return None
    return (
        f"{len(logs) - len(stamped)} of {len(logs)} values have no timestamp: Katib orders values by time, "
        "the ones without (0001-01-01) first, so 'latest' comes from the last timestamped value, not the last line"
    )
