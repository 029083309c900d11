"""Writes a rendered report to disk: ``report.md``, ``report.html``, the PNGs, ``junit.xml`` and ``summary.json``.

The only report module that does I/O. ``summary.json`` is the report model as data (the command
line left out), which a later comparison can use as a baseline (``kind: baseline``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from katibsim.atomic import write_atomic
from katibsim.report.html import render_html, render_index_html
from katibsim.report.junit import render_junit
from katibsim.report.markdown import render_index_markdown, render_markdown
from katibsim.report.model import ReportModel
from katibsim.report.png import render_png

__all__ = ["write_index", "write_report", "summary_json"]


def _write(path: Path, data: str | bytes) -> None:
    write_atomic(path, data)


def summary_json(m: ReportModel) -> str:
    """``summary.json``: stable bytes for the same results (no command line, no real times)."""
    return json.dumps(m.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def write_report(m: ReportModel, directory: str | Path, *, png: bool = True) -> list[Path]:
    """Every file of one scenario's report in ``directory``; returns what was written."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    images = render_png(m) if png else {}
    written: list[Path] = []
    for name, data in images.items():
        _write(d / name, data)
        written.append(d / name)
    files = {
        "report.md": render_markdown(m),
        "report.html": render_html(m, images),
        "junit.xml": render_junit([m]),
        "summary.json": summary_json(m),
    }
    for name, text in files.items():
        _write(d / name, text)
        written.append(d / name)
    return written


def _merged_junit(models: Sequence[ReportModel], d: Path, earlier: Sequence[str]) -> str:
    """The combined JUnit document: this run's suites, then each earlier scenario's own ``junit.xml``."""
    import xml.etree.ElementTree as ET

    text = render_junit(models)
    if not earlier:
        return text
    root = ET.fromstring(text.split("\n", 1)[1])
    for name in earlier:
        try:
            other = ET.parse(d / name / "junit.xml").getroot()
        except (OSError, ET.ParseError):
            continue
        for suite in other.iter("testsuite"):
            root.append(suite)
    suites = list(root.iter("testsuite"))
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_index(models: Sequence[ReportModel], out: str | Path) -> list[Path]:
    """``index.md``, ``index.html`` and a combined ``junit.xml`` over every scenario in ``out``:
    this run's scenarios and those an earlier ``compare`` left there (read from their
    ``summary.json``), sorted by name; a scenario run again replaces its earlier entry."""
    from katibsim.report.index import entries, stored_entries

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    earlier = stored_entries(d, {m.scenario for m in models})
    listed = sorted(entries(models) + earlier, key=lambda e: e.scenario)
    files = {
        "index.md": render_index_markdown(listed),
        "index.html": render_index_html(listed),
        "junit.xml": _merged_junit(models, d, [e.scenario for e in earlier]),
    }
    for name, text in files.items():
        _write(d / name, text)
    return [d / n for n in files]
