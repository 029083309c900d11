"""One entry point for backends: what Katib's collector would report for a trial, explained.

``collect(spec, metric_names, text=..., path=...)`` picks the collector from the Experiment's
``metricsCollectorSpec`` (StdOut, File TEXT/JSON, TensorFlowEvent), parses like Katib, applies
the objective-missing rule, and derives the observation the trial controller would record.
The first metric name is the objective (Katib's ``-m obj;add1;add2``).
"""

from __future__ import annotations

import codecs
import os
import stat
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from katibsim.collectors import explain as ex
from katibsim.collectors.gocompat import ZERO_TIMESTAMP, go_parse_rfc3339
from katibsim.collectors.json_file import JsonLineParser
from katibsim.collectors.model import CollectionResult, Explanation, MetricLog
from katibsim.collectors.observation import metrics_unavailable, raw_metrics, report, to_observation
from katibsim.collectors.text import TextLineParser, compile_filters
from katibsim.collectors.tfevent import TfEventParse, parse_tfevents, rfc3339_seconds
from katibsim.errors import InputError
from katibsim.spec.model import MetricsCollectorSpec

STDOUT = "StdOut"
FILE = "File"
TFEVENT = "TensorFlowEvent"
SUPPORTED_KINDS = (STDOUT, FILE, TFEVENT)


def file_format(spec: MetricsCollectorSpec) -> str:
    """TEXT or JSON; StdOut is always TEXT; File defaults to TEXT (Katib's defaulting, §1.2)."""
    if spec.kind == STDOUT:
        return "TEXT"
    fmt = spec.file_system_path.format if spec.file_system_path else None
    return fmt or "TEXT"


def _check(spec: MetricsCollectorSpec, metric_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(metric_names)
    if not names or any(not n for n in names):
        raise InputError("metric names are needed, the objective first, none empty")
    if spec.kind not in SUPPORTED_KINDS:
        raise InputError(
            f"collector kind {spec.kind!r} cannot be reproduced from logs; katibsim emulates {', '.join(SUPPORTED_KINDS)}"
        )
    if spec.kind == FILE and file_format(spec) not in ("TEXT", "JSON"):
        raise InputError(f"format of metrics file must be TEXT or JSON, not {file_format(spec)!r}")
    if spec.kind == FILE and file_format(spec) == "JSON" and spec.metrics_format:
        raise InputError("spec.metricsCollectorSpec.source.filter: filter must be nil when format of metrics file is json")
    return names


# Explanations kept per collection: each is clipped to a line's first 200 characters, so a
# huge log costs bounded memory; the lines beyond are counted (``explanations_cut``).
MAX_EXPLANATIONS = 10_000
READ_CHUNK = 1 << 20


class NotRegularFile(InputError):
    """A path that is not a regular file (a named pipe, a device, a socket): reading it could block for ever."""


def read_chunks(path: Path, *, chunk_size: int = READ_CHUNK) -> Iterator[str]:
    """A regular file's text, decoded piece by piece (memory bounded by ``chunk_size``).

    Go reads bytes; invalid UTF-8 becomes U+FFFD for its regexps and JSON decoder alike, which an
    incremental decoder reproduces across chunk boundaries. The file is opened without blocking
    and refused unless it is a regular file, so a named pipe cannot hang the reader.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(f"{path}: not a regular file ({_file_kind(mode)}); katibsim reads only regular files")
        os.set_blocking(fd, True)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            data = os.read(fd, chunk_size)
            if not data:
                break
            yield decoder.decode(data)
        yield decoder.decode(b"", final=True)
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


class _Explained:
    """The explanations a collection keeps while it streams: relevant lines first, within a budget."""

    def __init__(self, explain: Callable[[Any], Explanation], *, all_lines: bool, limit: int):
        self.explain = explain
        self.all_lines = all_lines
        self.limit = limit
        self.kept: list[Explanation] = []
        self.not_shown = 0  # lines that mention no metric, not kept (all_lines=False)
        self.cut = 0  # lines beyond the budget

    def __call__(self, trace: Any) -> None:
        e = self.explain(trace)
        if not e.relevant and not self.all_lines:
            self.not_shown += 1
        elif len(self.kept) >= self.limit:
            self.cut += 1
        else:
            self.kept.append(e)


def collect(
    spec: MetricsCollectorSpec,
    metric_names: Sequence[str],
    *,
    text: str | None = None,
    path: Path | None = None,
    katib_path: str | None = None,
    now: float | None = None,
    all_lines: bool = True,
    max_explanations: int = MAX_EXPLANATIONS,
) -> CollectionResult:
    """What Katib's collector of ``spec`` reports for one finished trial, and the observation.

    - StdOut: ``text`` is the trial's combined stdout+stderr (Katib redirects both into its log
      file), or ``path`` a file holding it.
    - File: ``path`` is the metrics file (or ``text`` its content). A missing file is Katib's
      "failed to open the file": the collector crashes and reports nothing.
    - TensorFlowEvent: ``path`` is the event directory; ``katib_path`` the directory as the
      Experiment names it (``fileSystemPath.path``) when ``path`` stands in for it.
    ``now`` (epoch seconds) stamps the TensorFlowEvent collector's "unavailable" log.

    A file is read line by line (Katib's one-shot collector reads it whole and splits it at
    "\\n"; the lines, and so the result, are the same), keeping at most ``max_explanations``
    explanations, and those of lines that mention no metric only with ``all_lines``: memory
    grows with the metric values found, not with the size of the log.

    Raises InputError for a spec Katib's webhook would reject or a kind katibsim cannot emulate.
    """
    names = _check(spec, metric_names)
    if spec.kind == TFEVENT:
        if path is None:
            raise InputError("the TensorFlowEvent collector reads a directory: pass path=")
        if katib_path is None and spec.file_system_path is not None and spec.file_system_path.path:
            katib_path = spec.file_system_path.path if Path(path).is_dir() else None
        return _collect_tfevents(Path(path), names, katib_path, now)
    chunks: Iterable[str]
    if text is not None:
        chunks = (text,)
    else:
        if path is None:
            raise InputError(f"the {spec.kind} collector needs the log text or a file path")
        path = Path(path)
        if not path.is_file():
            why = "is not a regular file" if path.exists() else "does not exist"
            return _crashed(
                names,
                f"Katib's collector fails to open the metrics file {str(path)!r} ({why}) and reports nothing",
            )
        chunks = read_chunks(path)
    return collect_chunks(spec, names, chunks, all_lines=all_lines, max_explanations=max_explanations)


def collect_chunks(
    spec: MetricsCollectorSpec,
    metric_names: Sequence[str],
    chunks: Iterable[str],
    *,
    all_lines: bool = True,
    max_explanations: int = MAX_EXPLANATIONS,
) -> CollectionResult:
    """:func:`collect` for a StdOut or File log arriving in pieces (a file being read, standard input)."""
    names = _check(spec, metric_names)
    parser: TextLineParser | JsonLineParser
    if file_format(spec) == "JSON":
        numbers = ex.JsonNumbers()

        def explain_json(trace: Any) -> Explanation:
            numbers.add(trace)
            return ex.explain_json_line(trace)

        explained = _Explained(explain_json, all_lines=all_lines, limit=max_explanations)
        parser = JsonLineParser(names, keep_traces=False, on_trace=explained)
        for chunk in chunks:
            parser.feed(chunk)
        return finish_json(parser, explained=explained, numbers=numbers)
    filters = compile_filters(spec.metrics_format)
    explained = _Explained(lambda t: ex.explain_text_line(t, names, filters), all_lines=all_lines, limit=max_explanations)
    parser = TextLineParser(names, filters, keep_traces=False, on_trace=explained, skip_unmentioned=not all_lines)
    for chunk in chunks:
        parser.feed(chunk)
    return finish_text(parser, explained=explained)


def _crashed(names: tuple[str, ...], why: str, explanations: Sequence[Explanation] = (), warnings: Sequence[str] = ()) -> CollectionResult:
    return CollectionResult(
        metric_names=names,
        observation=to_observation(()),
        logs=(),
        condition_hint=None,
        warnings=tuple(warnings) + (why + "; the trial's observation stays empty (Katib leaves it Running)",),
        explanations=tuple(explanations),
        raw_metrics=(),
        collector_error=why,
    )


def _finish(
    names: tuple[str, ...],
    found: Sequence[MetricLog],
    explanations: Sequence[Explanation],
    warnings: list[str],
    unavailable_timestamp: str,
) -> CollectionResult:
    logs = report(found, names, unavailable_timestamp=unavailable_timestamp)
    refusal = db_refusal(logs)
    if refusal:
        return _crashed(names, refusal, explanations, warnings)
    objective_found = any(log.name == names[0] for log in found)
    if not objective_found:
        warnings.insert(0, ex.objective_missing_warning(names[0], found))
    metrics = raw_metrics(logs, names)
    if objective_found:
        warnings.extend(ex.observation_warnings(metrics, names))
        mixed = ex.mixed_timestamps_warning(found)
        if mixed:
            warnings.append(mixed)
    return CollectionResult(
        metric_names=names,
        observation=to_observation(metrics),
        logs=logs,
        condition_hint="MetricsUnavailable" if metrics_unavailable(metrics, names[0]) else None,
        warnings=tuple(warnings),
        explanations=tuple(explanations),
        raw_metrics=metrics,
        collected=tuple(found),
    )


def db_refusal(logs: Sequence[MetricLog]) -> str | None:
    """Why Katib's DB manager would refuse the whole report, or None.

    ``RegisterObservationLog`` parses every timestamp with Go's ``time.Parse(RFC3339Nano)``,
    which takes only 4-digit years; a JSON epoch beyond 9999-12-31 (or before year 0) formats
    to a timestamp it cannot parse. The report call then fails and the collector exits without
    recording anything (``klog.Fatalf("Failed to Report logs")``).
    """
    for log in logs:
        if log.timestamp and go_parse_rfc3339(log.timestamp) is None:
            where = f" ({log.where})" if log.where else ""
            return (
                f"Katib's DB manager cannot parse the timestamp {log.timestamp!r}{where} (Go's RFC3339 takes a "
                "4-digit year) and refuses the whole report, so the collector fails"
            )
    return None


def finish_text(parser: TextLineParser, *, explained: _Explained | None = None) -> CollectionResult:
    """The result of a closed (or finished) TEXT parser — also for live parsing by a backend."""
    parser.close()
    names = parser.metric_names
    filters = parser.filters
    explanations = explained.kept if explained is not None else [ex.explain_text_line(t, names, filters) for t in parser.traces]
    warnings: list[str] = []
    for entry in filters.split_at_semicolon:
        warnings.append(
            f"metricsFormat entry {entry!r} contains ';': Katib passes filters joined by ';' and splits them again, "
            "so it becomes separate filters"
        )
    crash = filters.crash
    if crash:
        result = _crashed(names, crash, explanations, warnings)
    else:
        result = _finish(names, parser.logs, explanations, warnings, ZERO_TIMESTAMP)
    return _with_counts(result, explained, parser.skipped_lines)


def finish_json(
    parser: JsonLineParser, *, explained: _Explained | None = None, numbers: ex.JsonNumbers | None = None
) -> CollectionResult:
    """The result of a closed JSON-lines parser."""
    parser.close()
    names = parser.metric_names
    explanations = explained.kept if explained is not None else [ex.explain_json_line(t) for t in parser.traces]
    warnings: list[str] = []
    number_warning = numbers.warning() if numbers is not None else ex.json_numbers_warning(parser.traces)
    if number_warning:
        warnings.append(number_warning)
    if parser.error:
        result = _crashed(names, f"Katib's JSON collector cannot parse {parser.error}", explanations, warnings)
    else:
        result = _finish(names, parser.final_logs, explanations, warnings, ZERO_TIMESTAMP)
    return _with_counts(result, explained)


def _with_counts(result: CollectionResult, explained: _Explained | None, skipped: int = 0) -> CollectionResult:
    if explained is None or not (explained.not_shown or explained.cut or skipped):
        return result
    return replace(result, lines_not_shown=explained.not_shown + skipped, explanations_cut=explained.cut)


def _collect_tfevents(directory: Path, names: tuple[str, ...], katib_path: str | None, now: float | None) -> CollectionResult:
    parsed = parse_tfevents(directory, names, katib_directory=katib_path) if directory.is_dir() else _single_file(directory, names)
    explanations: list[Explanation] = []
    base = directory if directory.is_dir() else directory.parent
    for trace in parsed.files:
        rel = Path(trace.path).relative_to(base).as_posix()
        note = ex.explain_event_file(trace, rel)
        if note is not None:
            # A file named on its own is shown even when it is not an event file.
            explanations.append(note if directory.is_dir() else replace(note, relevant=True))
        for match in parsed.matches:
            if match.file is trace:
                explanations.append(ex.explain_tag(match, names, rel))
    warnings = ex.prefix_warnings(parsed.matches)
    skipped = [Path(t.path).relative_to(base).as_posix() for t in parsed.files if t.skipped]
    if skipped:
        warnings.append(
            f"skipped {len(skipped)} path(s) that are not regular files (named pipes, devices): {', '.join(skipped[:5])}"
            + (" ..." if len(skipped) > 5 else "") + "; Katib's collector would block reading them"
        )
    if not parsed.files:
        warnings.append(f"no files under {str(directory)!r}")
    stamp = rfc3339_seconds(time.time() if now is None else now)
    return _finish(names, parsed.logs, explanations, warnings, stamp)


def _single_file(path: Path, names: tuple[str, ...]) -> TfEventParse:
    # A single event file given where Katib walks a directory: read just that file, with its
    # own folder as the directory (so "train/accuracy"-style names still check the folder).
    if not path.exists():
        return TfEventParse((), ())
    return parse_tfevents(path.parent, names, only=path)
