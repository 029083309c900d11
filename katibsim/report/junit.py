"""JUnit XML of the verdicts: one testsuite per scenario, one testcase per assertion.

CI systems (GitHub, GitLab, Jenkins) show a failing assertion as a failing test with its
statement and the measured numbers as the failure message. When trials failed in a scenario,
every testcase's system-out also counts them per variant (a verdict may rest on fewer trials).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Sequence

from katibsim.report.model import ReportModel

__all__ = ["render_junit", "failed_trials_line"]


def failed_trials_line(m: ReportModel) -> str:
    """``failed trials: bo 3 in 2 runs (Failed 2, MetricsUnavailable 1); random 0`` ("" when none failed)."""
    if not any(f.total for f in m.failures):
        return ""
    parts = []
    for f in m.failures:
        by = ", ".join(f"{c} {n}" for c, n in f.counts.items())
        parts.append(f"{f.variant} {f.total} in {f.runs} runs ({by})" if f.total else f"{f.variant} 0")
    return "failed trials: " + "; ".join(parts)


def render_junit(models: Sequence[ReportModel]) -> str:
    """A ``<testsuites>`` document for the scenarios in ``models``."""
    total = sum(len(m.assertions) for m in models)
    failures = sum(not a.passed for m in models for a in m.assertions)
    root = ET.Element("testsuites", name="katibsim compare", tests=str(total), failures=str(failures), errors="0")
    for m in models:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=m.scenario,
            tests=str(len(m.assertions)),
            failures=str(sum(not a.passed for a in m.assertions)),
            errors="0",
            skipped="0",
        )
        props = ET.SubElement(suite, "properties")
        for k, v in (
            ("scenario_hash", m.provenance.scenario_hash),
            ("scenario_file", m.provenance.scenario_file or ""),
            ("master_seed", str(m.provenance.master_seed)),
            ("seeds", ",".join(str(s) for s in m.provenance.seeds)),
            ("katibsim", m.provenance.katibsim),
        ):
            ET.SubElement(props, "property", name=k, value=v)
        failed = failed_trials_line(m)
        for a in m.assertions:
            case = ET.SubElement(suite, "testcase", classname=f"katibsim.{m.scenario}.{a.kind}", name=a.name, time="0")
            text = f"{a.statement}\n{a.outcome}"
            if not a.passed:
                fail = ET.SubElement(case, "failure", message=a.outcome, type="AssertionFailed")
                fail.text = text
            out = ET.SubElement(case, "system-out")
            out.text = f"{text}\n{failed}" if failed else text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
