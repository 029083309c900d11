"""The index's view of a scenario (verdict, assertions, normalised scores), from a fresh model or a stored ``summary.json``.

A second ``compare`` into the same ``--out`` adds or updates its scenarios in ``index.md`` /
``index.html``: the scenarios it did not run are read back from their ``summary.json``, so the
index lists every scenario whose report is in the folder (``docs/reports.md#files``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

__all__ = ["IndexAssertion", "IndexEntry", "entries", "entry_from_summary", "stored_entries"]


@dataclass(frozen=True)
class IndexAssertion:
    name: str
    passed: bool
    statement: str
    outcome: str
    decided: bool = True
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class IndexEntry:
    scenario: str
    passed: bool
    assertions: tuple[Any, ...]  # AssertionResult or IndexAssertion
    scores: Mapping[str, float]  # Bayesmark's normalised score per variant


def _entry(m: Any) -> IndexEntry:
    if isinstance(m, IndexEntry):
        return m
    return IndexEntry(m.scenario, m.passed, tuple(m.assertions), dict(m.normalized.score))


def _float(x: Any) -> float:
    if isinstance(x, str):
        return float(x)
    return math.nan if x is None else float(x)


def entry_from_summary(data: Mapping[str, Any]) -> IndexEntry:
    """The index entry of a stored ``summary.json`` (the report model as data)."""
    assertions = tuple(
        IndexAssertion(
            str(a.get("name", "")), bool(a.get("passed")), str(a.get("statement", "")), str(a.get("outcome", "")),
            bool(a.get("decided", True)), a.get("details") or {},
        )
        for a in data.get("assertions") or ()
    )
    scores = {str(k): _float(v) for k, v in ((data.get("normalized") or {}).get("score") or {}).items()}
    return IndexEntry(str(data["scenario"]), bool(data.get("passed", all(a.passed for a in assertions))), assertions, scores)


def stored_entries(out: str | Path, skip: set[str]) -> list[IndexEntry]:
    """Entries of the reports already in ``out`` (one ``<scenario>/summary.json`` each), except ``skip``.

    A folder whose summary cannot be read is left out of the index (it is not this run's to repair).
    """
    found = []
    for path in sorted(Path(out).glob("*/summary.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            e = entry_from_summary(data)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if e.scenario in skip or e.scenario != path.parent.name:
            continue
        found.append(e)
    return found


def entries(models: Sequence[Any]) -> list[IndexEntry]:
    return [_entry(m) for m in models]
