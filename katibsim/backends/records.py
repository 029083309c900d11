"""What a real backend keeps of a finished trial (``trials/<name>/trial.json``), so a run can resume.

A record is the trial's :class:`~katibsim.backends.base.TrialEvent` plus its assignment and the
position of the event in the run (``batch``: which ``wait()`` call returned it, ``order``: its
place in that batch). Replaying the records batch by batch, in that order, gives the controller
exactly the sequence of events the interrupted run saw, so a deterministic algorithm asks for the
same trials again and the finished ones are re-used instead of re-run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from katibsim.backends.base import Outcome, TrialEvent
from katibsim.errors import InputError

RECORD_FILE = "trial.json"


@dataclass(frozen=True)
class TrialRecord:
    """A finished trial: its event, its assignment, and where the event came in the run."""

    event: TrialEvent
    assignment: tuple[tuple[str, str], ...]
    batch: int
    order: int

    @property
    def name(self) -> str:
        return self.event.name

    def to_dict(self) -> dict[str, Any]:
        ev = self.event
        return {
            "name": ev.name,
            "assignment": [{"name": k, "value": v} for k, v in self.assignment],
            "outcome": ev.outcome.value,
            "time": ev.time,
            "started": ev.started,
            "stopped_at": ev.stopped_at,
            "reason": ev.reason,
            "message": ev.message,
            "reports": {m: [[s, v] for s, v in logs] for m, logs in ev.reports.items()},
            "output_tail": list(ev.output_tail),
            "output_path": ev.output_path,
            "batch": self.batch,
            "order": self.order,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrialRecord":
        event = TrialEvent(
            name=str(d["name"]),
            time=float(d["time"]),
            outcome=Outcome(d["outcome"]),
            reports={str(m): tuple((int(s), v) for s, v in logs) for m, logs in (d.get("reports") or {}).items()},
            started=None if d.get("started") is None else float(d["started"]),
            stopped_at=None if d.get("stopped_at") is None else int(d["stopped_at"]),
            reason=str(d.get("reason") or ""),
            message=str(d.get("message") or ""),
            output_tail=tuple(str(x) for x in d.get("output_tail") or ()),
            output_path=d.get("output_path"),
        )
        assignment = tuple((str(a["name"]), str(a["value"])) for a in d.get("assignment") or ())
        return cls(event, assignment, int(d.get("batch", 0)), int(d.get("order", 0)))


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_record(trial_dir: str | Path, record: TrialRecord) -> None:
    write_json_atomic(Path(trial_dir) / RECORD_FILE, record.to_dict())


def load_records(trials_dir: str | Path) -> dict[str, TrialRecord]:
    """Every record under ``trials_dir`` (``<name>/trial.json``), by trial name."""
    out: dict[str, TrialRecord] = {}
    base = Path(trials_dir)
    if not base.is_dir():
        return out
    for f in sorted(base.glob(f"*/{RECORD_FILE}")):
        try:
            rec = TrialRecord.from_dict(json.loads(f.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{f}: not a readable trial record ({exc}); delete the trial's folder to run it again") from None
        out[rec.name] = rec
    return out


__all__ = ["RECORD_FILE", "TrialRecord", "write_json_atomic", "write_record", "load_records"]
