"""Katib's TensorFlowEvent collector: every event file under a directory, prefix tag matching.

Semantics of ``tfevent_loader.py`` (docs/katib-behaviour.md §6.3):
- every file under the directory (recursively) is loaded with tensorboard's
  ``EventAccumulator`` (SCALARS and TENSORS kept in full); a file that fails is skipped;
- TENSORS tags are read first (TF2 ``tf.summary.scalar`` writes tensors; the value is
  ``str(make_ndarray(tensor))``), then SCALARS tags (TF1 / tensorboardX ``simple_value``; the
  value is ``str(float)``, so a float32 0.6 reads "0.6000000238418579");
- a tag matches metric ``m`` when ``tag.startswith(m.split('/')[-1])`` — a *prefix*: metric
  ``accuracy`` takes tags ``accuracy``, ``accuracy_1`` and ``accuracy_top5`` alike — and, when
  ``m`` contains "/", the file's directory must end with ``dirname(m)`` (a string suffix);
- logs are reported under the metric name, stamped with the event's wall time formatted as
  RFC3339 to the **second** (so events within one second tie, and the DB keeps them in
  report order);
- no log for the objective → one ``unavailable`` log stamped with the current time.

tensorboard reads event files without TensorFlow (docs/kind.md#event-files); it is imported lazily so
the rest of katibsim works without it.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from katibsim.collectors.model import MetricLog
from katibsim.errors import InputError


class TensorboardMissing(InputError):
    """The TensorFlowEvent collector needs the ``tensorboard`` package."""


def _tensorboard():
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.backend.event_processing.tag_types import SCALARS, TENSORS
        from tensorboard.util.tensor_util import make_ndarray
    except ImportError as err:  # pragma: no cover - tensorboard is a main dependency
        raise TensorboardMissing(
            f"the TensorFlowEvent collector needs the 'tensorboard' package ({err}); "
            "install it with: pip install tensorboard  (TensorFlow itself is not needed)"
        ) from None
    return EventAccumulator, SCALARS, TENSORS, make_ndarray


def should_consider(tag: str, metric: str, event_file: str) -> bool:
    """Katib's ``_should_consider``: prefix match on the tag, suffix match on the directory."""
    wanted_dir = posixpath.dirname(metric) if len(metric.split("/")) >= 2 else posixpath.dirname(event_file)
    return tag.startswith(metric.split("/")[-1]) and posixpath.dirname(event_file).endswith(wanted_dir)


def rfc3339_seconds(wall_time: float) -> str:
    """The timestamp Katib's Python collector writes: ``rfc3339(datetime.fromtimestamp(t))``.

    That is local time to the second with a numeric offset; katibsim uses UTC ("+00:00"), the
    zone of Katib's collector container.
    """
    return datetime.fromtimestamp(wall_time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass(frozen=True)
class TagEvents:
    """The events of one tag in one file, already turned into Katib's value strings."""

    tag: str
    kind: str  # "tensors" | "scalars"
    events: tuple[tuple[float, int, str], ...]  # (wall_time, step, value)


@dataclass(frozen=True)
class EventFileTrace:
    """One file Katib's collector loaded: the local path, the path Katib sees, its tags."""

    path: str
    katib_path: str
    tags: tuple[TagEvents, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()
    skipped: str | None = None  # why katibsim did not open it (not a regular file)


@dataclass(frozen=True)
class TagMatch:
    """Which metrics one tag of one file feeds, and the logs it gave."""

    file: EventFileTrace
    tag: TagEvents
    metrics: tuple[str, ...]
    logs: tuple[MetricLog, ...]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def find_all_files(directory: Path) -> list[Path]:
    """Every file under ``directory``, recursively (``os.walk``), in sorted order.

    Katib takes ``os.walk``'s order, which is the file system's; katibsim sorts so that ties
    between events of the same second resolve the same way on every machine.
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if not path.is_dir():
                found.append(path)
    return found


def load_event_file(path: Path, katib_path: str) -> EventFileTrace:
    """Load one file like Katib's ``parse_summary``: TENSORS and SCALARS, every event kept.

    A path that is not a regular file (a named pipe called ``events.out.tfevents.x``, a device)
    is not opened: reading it could block for ever (Katib's collector would hang on it).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return EventFileTrace(str(path), katib_path, error=f"{type(err).__name__}: {err.strerror or err}")
    if not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
        return EventFileTrace(
            str(path), katib_path,
            skipped=f"not a regular file ({kind}): reading it could block for ever, so katibsim does not open it "
            "(Katib's collector would wait on it)",
        )
    EventAccumulator, SCALARS, TENSORS, make_ndarray = _tensorboard()
    capture = _Capture()
    logger = logging.getLogger("tensorboard")
    logger.addHandler(capture)
    old_propagate = logger.propagate
    logger.propagate = False  # library code does not print: tensorboard's warnings become notes
    try:
        acc = EventAccumulator(str(path), size_guidance={SCALARS: 0, TENSORS: 0})
        acc.Reload()
        tags = acc.Tags()
        found: list[TagEvents] = []
        for tag in tags[TENSORS]:
            events = tuple((e.wall_time, e.step, str(make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag))
            found.append(TagEvents(tag, "tensors", events))
        for tag in tags[SCALARS]:
            events = tuple((e.wall_time, e.step, str(e.value)) for e in acc.Scalars(tag))
            found.append(TagEvents(tag, "scalars", events))
        return EventFileTrace(str(path), katib_path, tuple(found), notes=tuple(capture.messages))
    except Exception as err:  # noqa: BLE001 - Katib skips such a file with "Unexpected error"
        return EventFileTrace(str(path), katib_path, error=f"{type(err).__name__}: {err}", notes=tuple(capture.messages))
    finally:
        logger.removeHandler(capture)
        logger.propagate = old_propagate


@dataclass(frozen=True)
class TfEventParse:
    files: tuple[EventFileTrace, ...]
    matches: tuple[TagMatch, ...]

    @property
    def logs(self) -> tuple[MetricLog, ...]:
        """Every log in Katib's report order: file by file, tensors before scalars, tag by tag."""
        return tuple(log for m in self.matches for log in m.logs)


def parse_tfevents(
    directory: Path, metric_names: Sequence[str], *, katib_directory: str | None = None, only: Path | None = None
) -> TfEventParse:
    """Collect ``metric_names`` from the event files under ``directory``.

    ``katib_directory`` is the directory as Katib's collector sees it (the experiment's
    ``fileSystemPath.path``), used for the ``train/accuracy``-style directory check when the
    files were written to a local folder standing in for it; default: ``directory`` itself.
    ``only`` restricts the walk to one file inside ``directory``.
    """
    if not metric_names:
        raise InputError("at least one metric name (the objective) is needed")
    directory = Path(directory)
    base = katib_directory if katib_directory is not None else str(directory)
    files: list[EventFileTrace] = []
    matches: list[TagMatch] = []
    for path in [Path(only)] if only is not None else find_all_files(directory):
        rel = path.relative_to(directory).as_posix()
        katib_path = posixpath.join(base.replace(os.sep, "/"), rel)
        trace = load_event_file(path, katib_path)
        found: list[TagMatch] = []
        try:
            for tag in trace.tags:
                metrics = tuple(m for m in metric_names if should_consider(tag.tag, m, katib_path))
                logs = tuple(
                    MetricLog(timestamp=rfc3339_seconds(wall), name=m, value=value, step=step, where=f"{rel}: tag {tag.tag}")
                    for m in metrics
                    for wall, step, value in tag.events
                )
                found.append(TagMatch(trace, tag, metrics, logs))
        except (ValueError, OverflowError, OSError) as err:
            # A wall time datetime cannot hold (beyond year 9999): Katib's parse_summary raises
            # for the file and its loop skips the whole file with "Unexpected error".
            trace = EventFileTrace(trace.path, trace.katib_path, error=f"{type(err).__name__}: {err}", notes=trace.notes)
            found = []
        files.append(trace)
        matches.extend(found)
    return TfEventParse(tuple(files), tuple(matches))
