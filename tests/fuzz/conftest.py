"""The fuzz suite's figures: inputs tried per command, exit codes, failures, hangs, slowest input."""

from __future__ import annotations

import json
import os


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest's hook signature
    from fuzz_helpers import STATS

    if not STATS:
        return
    terminalreporter.section("katibsim fuzz figures")
    rows = {}
    for command, s in sorted(STATS.items()):
        codes = ", ".join(f"exit {k}: {v}" for k, v in sorted(s["codes"].items()))
        terminalreporter.write_line(
            f"{command:<24} {s['inputs']:>6} inputs  {s['failures']} failures  {s['hangs']} hangs  "
            f"slowest {s['max_s']:.2f} s  ({codes})"
        )
        rows[command] = {**s, "codes": dict(s["codes"])}
    target = os.environ.get("KATIBSIM_FUZZ_STATS")
    if target:
        with open(target, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2, sort_keys=True)
