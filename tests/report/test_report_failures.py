"""The "Failed trials" section: from the engine's result dict through RunData to the model, its caps,
and its Markdown / HTML / JUnit rendering (escaped), plus a tiny `katibsim compare` with simulated failures."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from katibsim.assertions import evaluate_all
from katibsim.cli import main
from katibsim.report.build import build_report
from katibsim.report.failures import TAIL_BYTES, TAIL_LINES, TRIALS_PER_VARIANT, cap_tail, failure_table
from katibsim.report.html import render_html
from katibsim.report.junit import render_junit
from katibsim.report.markdown import render_markdown
from katibsim.report.model import Provenance
from katibsim.report.rundata import RunData, TrialRecord
from katibsim.runner import run_data
from katibsim.scenario import scenario_from_dict

from experiment_helpers import minimal_experiment

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = minimal_experiment()
PROV = Provenance("0", "3.11", {}, {}, None, "h", None, "seed-1d", 0, (11, 12), "katibsim compare x")
EVIL_TAIL = [f"epoch {i}: loss=0.{i}" for i in range(30)] + ["```", "<script>alert(1)</script>", "Traceback: boom & bust"]


def _trial(index, condition, value=None, reason="", message="", **extra):
    d = {
        "name": f"t-{index}",
        "index": index,
        "assignment": [{"name": "x", "value": str(float(index))}],
        "condition": condition,
        "reason": reason,
        "message": message,
        "value": value,
        "created": 10.0 * index,
        "started": 10.0 * index + 1,
        "ended": 10.0 * index + 9,
    }
    d.update(extra)
    return d


def _envelope(variant="local", seed_index=0, trials=None):
    """A hand-made stored run in the layout the engine's RunResult.to_dict() writes."""
    if trials is None:
        trials = [
            _trial(0, "Succeeded", 0.5, "TrialSucceeded", "Trial has succeeded"),
            _trial(1, "Failed", None, "TrialFailed", "Trial has failed. Job message: exit code 1 <nil>",
                   output_tail=EVIL_TAIL, output_path="/runs/x/trials/t-1/output.log"),
            _trial(2, "MetricsUnavailable", None, "MetricsUnavailable", "Metrics are not available",
                   output_path="/runs/x/trials/t-2/output.log"),
            _trial(3, "EarlyStopped", 0.2, "TrialEarlyStopped", "Trial is early stopped"),
            _trial(4, "Killed", None, "TrialKilled", "Trial is killed"),
        ]
    return {
        "variant": variant,
        "seed_index": seed_index,
        "seed": 11 + seed_index,
        "result": {"maximize": True, "trials": trials, "status": {"counts": {"failed": 1}}, "outcome": "Succeeded",
                   "reason": "ExperimentMaxTrialsReached"},
    }


def test_run_data_carries_reason_message_and_output():
    r = run_data(_envelope())
    ok, failed, unavailable = r.trials[:3]
    assert (ok.reason, ok.message, ok.output_tail, ok.output_path) == ("TrialSucceeded", "Trial has succeeded", (), None)
    assert failed.condition == "Failed" and failed.reason == "TrialFailed" and failed.message.endswith("<nil>")
    assert failed.output_tail == tuple(EVIL_TAIL) and failed.output_path == "/runs/x/trials/t-1/output.log"
    assert unavailable.output_tail == () and unavailable.output_path.endswith("t-2/output.log")


def test_failure_table_lists_failed_and_unavailable_and_caps_the_tail():
    f = failure_table("local", [run_data(_envelope())])
    # The stock EarlyStopped message and a Killed trial are not failures.
    assert [t.trial for t in f.trials] == ["t-1", "t-2"]
    assert f.total == 2 and f.counts == {"Failed": 1, "MetricsUnavailable": 1} and f.omitted == 0
    t1, t2 = f.trials
    assert t1.output_tail == tuple(EVIL_TAIL[-TAIL_LINES:]) and t1.omitted_lines == len(EVIL_TAIL) - TAIL_LINES
    assert t1.output_path.endswith("output.log") and (t1.seed_index, t1.seed) == (0, 11)
    assert t2.output_tail == () and t2.omitted_lines == 0


def test_early_stopped_with_its_own_message_is_listed():
    trials = [_trial(0, "EarlyStopped", 0.1, "TrialEarlyStopped", "stopped by the collector: accuracy < 0.2 at step 3")]
    f = failure_table("v", [run_data(_envelope(trials=trials))])
    assert f.counts == {"EarlyStopped": 1} and f.trials[0].message.startswith("stopped by the collector")


def test_tail_byte_cap_and_one_huge_line():
    lines = ["x" * 300 for _ in range(15)]
    kept, omitted = cap_tail(lines)
    assert sum(len(s) + 1 for s in kept) <= TAIL_BYTES and len(kept) == TAIL_BYTES // 301 and omitted == 15 - len(kept)
    kept, omitted = cap_tail(["short", "é" * 5000])
    assert len(kept) == 1 and kept[0].startswith("…") and kept[0].endswith("é") and omitted == 1
    assert len(kept[0].encode()) + 1 <= TAIL_BYTES


@given(st.lists(st.text(max_size=400), max_size=60))
def test_cap_tail_keeps_a_suffix_within_both_caps(lines):
    kept, omitted = cap_tail(lines)
    assert len(kept) + omitted == len(lines) and len(kept) <= TAIL_LINES
    assert sum(len(s.encode()) + 1 for s in kept) <= TAIL_BYTES
    if kept and not kept[0].startswith("…"):
        assert list(kept) == lines[len(lines) - len(kept):]


def test_trials_per_variant_are_capped_round_robin_over_seeds():
    runs = [
        RunData("v", i, 100 + i, True,
                tuple(TrialRecord(n, f"s{i}-{n}", {}, None, "Failed", 0.0, 1.0, reason="TrialFailed") for n in range(1, 9)))
        for i in range(2)
    ]
    f = failure_table("v", runs)
    assert f.total == 16 and len(f.trials) == TRIALS_PER_VARIANT and f.omitted == 16 - TRIALS_PER_VARIANT
    # both seeds are shown, in seed then trial order
    assert [t.trial for t in f.trials] == [f"s0-{n}" for n in range(1, 6)] + [f"s1-{n}" for n in range(1, 6)]


def _model(envelopes):
    sc = scenario_from_dict({
        "name": "flaky",
        "experiment": EXPERIMENT,
        "objective": "seed-1d",
        "variants": [{"name": "local", "algorithm": "random"}, {"name": "sim", "algorithm": "random"}],
        "seeds": {"count": 2},
        "assertions": [{"kind": "invariant", "check": "no-duplicates"}],
    })
    runs: dict[str, list[RunData]] = {}
    for env in envelopes:
        runs.setdefault(env["variant"], []).append(run_data(env))
    return build_report(sc, runs, evaluate_all(sc, runs), PROV, metric_name="y")


def _clean(variant, seed_index):
    return _envelope(variant, seed_index, [_trial(0, "Succeeded", 0.5, "TrialSucceeded", "Trial has succeeded")])


def test_rendered_section_escapes_output_and_messages():
    m = _model([_envelope("local", 0), _clean("local", 1), _clean("sim", 0), _clean("sim", 1)])
    assert [(f.variant, f.total) for f in m.failures] == [("local", 2), ("sim", 0)]
    assert json.loads(json.dumps(m.to_dict()))["failures"][0]["trials"][0]["output_tail"][-1] == "Traceback: boom & bust"

    page = render_html(m, {})
    assert "<script" not in page
    details = re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", page, flags=re.S)
    tail = [body for summary, body in details if "t-1 (Failed): last 20 lines of output" in summary]
    assert len(tail) == 1
    assert "<pre><code>" in tail[0] and "&lt;script&gt;alert(1)&lt;/script&gt;" in tail[0] and "boom &amp; bust" in tail[0]
    assert "epoch 29" in tail[0] and "epoch 12: " not in tail[0]  # the first lines fell to the 20-line cap
    assert "13 earlier lines left out; all of it in /runs/x/trials/t-1/output.log." in tail[0]
    assert "exit code 1 &lt;nil&gt;</td>" in page
    assert any("t-2 (MetricsUnavailable): printed nothing" in s for s, _ in details)

    md = render_markdown(m)
    section = md.split("## Failed trials", 1)[1].split("## Duplicate suggestions", 1)[0]
    assert "| local | 2 | 2 | Failed 1, MetricsUnavailable 1 |" in section and "| sim | 2 | 0 |" in section
    assert "exit code 1 &lt;nil> |" in section  # a tag-like "<" in a table cell is escaped
    fence = re.search(r"^(`{4,})\n(.*?)\n\1$", section, flags=re.M | re.S)
    assert fence is not None and "<script>alert(1)</script>" in fence.group(2)  # the ``` line cannot close it

    root = ET.fromstring(render_junit([m]))
    outs = [c.find("system-out").text for c in root.iter("testcase")]
    assert outs and all(o.endswith("failed trials: local 2 in 2 runs (Failed 1, MetricsUnavailable 1); sim 0") for o in outs)


def test_no_failures_says_so_and_junit_is_unchanged():
    m = _model([_clean("local", 0), _clean("local", 1), _clean("sim", 0), _clean("sim", 1)])
    assert "## Failed trials\n\nNo trial ended Failed or MetricsUnavailable in any run." in render_markdown(m)
    assert "failed trials" not in render_junit([m])


def test_more_failures_than_shown_are_counted():
    trials = [_trial(i, "Failed", None, "TrialFailed", f"boom {i}") for i in range(TRIALS_PER_VARIANT + 3)]
    m = _model([_envelope("local", 0, trials), _clean("local", 1), _clean("sim", 0), _clean("sim", 1)])
    md = render_markdown(m)
    assert "… and 3 more not shown here" in md and f"boom {TRIALS_PER_VARIANT - 1} |" in md and "boom 12" not in md


SCENARIO = """
name: flaky
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 2, maxTrialCount: 5}}
seeds: {{count: 2, master: 7}}
simulation: {{failure_probability: 0.5}}
variants:
  - {{name: random, algorithm: random}}
assertions:
  - {{kind: invariant, check: no-duplicates}}
"""


def test_compare_with_simulated_failures_shows_the_section(tmp_path, capsys):
    sc = tmp_path / "flaky.yaml"
    sc.write_text(SCENARIO.format(experiment=ROOT / "examples" / "seed-1d-random.yaml"))
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) == 0
    capsys.readouterr()
    d = out / "flaky"
    failed = 0
    for p in (d / "runs").glob("*/seed-*.json"):
        trials = json.loads(p.read_text())["result"]["trials"]
        failed += sum(t["condition"] in ("Failed", "MetricsUnavailable") for t in trials)
    assert failed > 0  # with p = 0.5 over 10 trials, the fixed seeds do fail some
    summary = json.loads((d / "summary.json").read_text())
    assert summary["failures"][0]["total"] == failed
    md = (d / "report.md").read_text()
    section = md.split("## Failed trials", 1)[1].split("## Duplicate suggestions", 1)[0]
    assert f"| random | 2 | {failed} |" in section
    assert "simulated crash after" in section and "failure_probability=0.5" in section
    assert "line of output" not in section and "lines of output" not in section  # simulated trials print nothing
    assert "<h2>Failed trials</h2>" in (d / "report.html").read_text()
    assert f"failed trials: random {failed} in 2 runs" in (d / "junit.xml").read_text()
