"""Which trials the report lists as failed, and how much of their output it keeps (pure; no I/O).

A trial is listed when it ended Failed or MetricsUnavailable (the two buckets Katib counts against
``maxFailedTrialCount``, ``docs/katib-behaviour.md`` §3.5), or EarlyStopped with a message other
than Katib's stock "Trial is early stopped" (a backend saying why it stopped it). Its output tail is
capped to :data:`TAIL_LINES` lines and :data:`TAIL_BYTES` bytes, and a variant shows at most
:data:`TRIALS_PER_VARIANT` trials, taken round-robin over the seeds so one bad seed does not hide
the others; the rest is counted, and the run folder holds every line.
"""

from __future__ import annotations

from typing import Sequence

from katibsim.report.model import FailedTrial, FailureTable
from katibsim.report.rundata import RunData, TrialRecord

__all__ = ["TAIL_BYTES", "TAIL_LINES", "TRIALS_PER_VARIANT", "MESSAGE_CHARS", "cap_tail", "failure_table", "is_failure"]

TAIL_LINES = 20
TAIL_BYTES = 2048
TRIALS_PER_VARIANT = 10
MESSAGE_CHARS = 500
FAILED_CONDITIONS = ("Failed", "MetricsUnavailable")
EARLY_STOPPED = "EarlyStopped"
EARLY_STOPPED_MESSAGE = "Trial is early stopped"  # Katib's TrialEarlyStoppedMessage: nothing to add


def is_failure(t: TrialRecord) -> bool:
    """Whether the report lists ``t`` (see the module docstring)."""
    if t.condition in FAILED_CONDITIONS:
        return True
    return t.condition == EARLY_STOPPED and t.message.strip() not in ("", EARLY_STOPPED_MESSAGE)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cap_tail(lines: Sequence[str], max_lines: int = TAIL_LINES, max_bytes: int = TAIL_BYTES) -> tuple[tuple[str, ...], int]:
    """The last lines of ``lines`` within ``max_lines`` and ``max_bytes`` (UTF-8, newlines counted),
    and how many were left out. A last line longer than the byte cap keeps its end, marked with "…"."""
    kept: list[str] = []
    size = 0
    for line in reversed(list(lines)[-max_lines:] if max_lines > 0 else []):
        n = len(line.encode("utf-8")) + 1
        if size + n > max_bytes:
            if not kept:  # one huge line: its end is what explains the failure
                tail = line.encode("utf-8")[-(max_bytes - 4):].decode("utf-8", errors="ignore")
                kept.append("…" + tail)
            break
        kept.append(line)
        size += n
    kept.reverse()
    return tuple(kept), len(lines) - len(kept)


def _record(r: RunData, t: TrialRecord) -> FailedTrial:
    tail, omitted = cap_tail(t.output_tail)
    return FailedTrial(
        seed_index=r.seed_index,
        seed=r.seed,
        trial=t.name,
        condition=t.condition,
        reason=t.reason,
        message=_clip(t.message, MESSAGE_CHARS),
        output_tail=tail,
        omitted_lines=omitted,
        output_path=t.output_path,
    )


def failure_table(variant: str, runs: Sequence[RunData], limit: int = TRIALS_PER_VARIANT) -> FailureTable:
    """The failed trials of ``variant`` over ``runs``: counts by condition and up to ``limit`` shown."""
    per_run = [
        (r, sorted((t for t in r.trials if is_failure(t)), key=lambda t: t.number))
        for r in sorted(runs, key=lambda r: r.seed_index)
    ]
    counts: dict[str, int] = {}
    for _, ts in per_run:
        for t in ts:
            counts[t.condition] = counts.get(t.condition, 0) + 1
    total = sum(counts.values())
    chosen: list[tuple[int, int, RunData, TrialRecord]] = []
    depth = 0
    while len(chosen) < min(limit, total):
        for r, ts in per_run:  # the depth-th failure of every run, then the next
            if depth < len(ts) and len(chosen) < limit:
                chosen.append((r.seed_index, ts[depth].number, r, ts[depth]))
        depth += 1
    chosen.sort(key=lambda c: (c[0], c[1]))
    shown = tuple(_record(r, t) for _, _, r, t in chosen)
    order = FAILED_CONDITIONS + (EARLY_STOPPED,)
    counts = {c: counts[c] for c in sorted(counts, key=lambda c: (order.index(c) if c in order else len(order), c))}
    return FailureTable(variant, len(runs), total, counts, shown, total - len(shown))
