"""Fuzzing `katibsim compare` with mutated scenarios (one seed, small budgets, no figures): exit 0, 1
or 2 only, never a traceback or a hang."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_helpers import ROOT, assert_clean_inprocess, run_inprocess
from mutate import apply_edits, apply_text_edits, dump, edits, text_edits

SCENARIO_DIR = ROOT / "scenarios"
# Derandomized: the default suite's verdict must not depend on the draw (the slow profile draws).
FEW = settings(max_examples=int(os.environ.get("KATIBSIM_FUZZ_FEW_SCENARIOS", "2")), deadline=None, derandomize=True,
               suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=int(os.environ.get("KATIBSIM_FUZZ_MANY_SCENARIOS", "80")), deadline=None,
                suppress_health_check=list(HealthCheck))


def _absolute(value, base: Path):
    if isinstance(value, str) and value.endswith((".yaml", ".yml", ".json")) and not value.startswith("/"):
        return str((base / value).resolve())
    if isinstance(value, dict):
        return {k: _absolute(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute(v, base) for v in value]
    return value


def _small(doc):
    """The harness's bound on the work of one input: two variants, a small budget."""
    if not isinstance(doc, dict):
        return doc
    if isinstance(doc.get("variants"), list):
        doc["variants"] = doc["variants"][:2]
    doc["budget"] = {"maxTrialCount": 6, "parallelTrialCount": 2}
    return doc


SCENARIOS = []
for path in sorted(SCENARIO_DIR.glob("*.yaml")):
    for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if d is not None):
        SCENARIOS.append((f"{path.stem}#{i}", _small(_absolute(doc, SCENARIO_DIR))))
NAMES = [n for n, _ in SCENARIOS]
BY_NAME = dict(SCENARIOS)

cases = st.tuples(
    st.sampled_from(NAMES),
    st.one_of(st.tuples(st.just("doc"), edits), st.tuples(st.just("text"), text_edits)),
)


def exercise(case) -> None:
    name, (how, plan) = case
    base = BY_NAME[name]
    if how == "doc":
        text = dump(_small(apply_edits(base, plan)), False)
    else:
        text = apply_text_edits(dump(base, False), plan)
    with tempfile.TemporaryDirectory() as d:
        sc = Path(d) / "scenario.yaml"
        sc.write_text(text, encoding="utf-8", errors="surrogatepass")
        outcome = run_inprocess("compare", str(sc), "--out", str(Path(d) / "out"), "--seeds", "1", "--jobs", "1", "--no-png")
        assert_clean_inprocess(outcome, f"compare on {case!r}")


@FEW
@given(cases)
def test_mutated_scenarios_compare_cleanly(case):
    exercise(case)


@pytest.mark.slow
@MANY
@given(cases)
def test_many_mutated_scenarios_compare_cleanly(case):
    exercise(case)
