"""The audit's nasty inputs, kept as files under corpus/: each through the commands it broke.

In the default suite every case runs through the CLI entry point in this process (bounded in
time and memory); in the slow profile each also runs as a fresh `python -m katibsim.cli` with
an address-space limit and a time limit, as a user would meet it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fuzz_helpers import CORPUS, assert_clean, assert_clean_inprocess, run_cli, run_inprocess

# (corpus file, command and arguments ({f} = the file, {out} = a fresh folder), expected exit code, text expected on stderr)
CASES = [
    ("billion-laughs.yaml", ["validate", "{f}"], 2, "excessive aliasing"),
    ("billion-laughs.yaml", ["show", "{f}"], 2, "excessive aliasing"),
    ("billion-laughs.yaml", ["check-metrics", "--experiment", "{f}", "{log}"], 2, "excessive aliasing"),
    ("alias-long-string.yaml", ["show", "{f}"], 2, "MiB"),
    ("huge-int.yaml", ["validate", "{f}"], 2, "5000 digits"),
    ("huge-int.yaml", ["show", "{f}"], 2, "5000 digits"),
    ("huge-int.yaml", ["check-metrics", "--experiment", "{f}", "{log}"], 2, "5000 digits"),
    ("huge-int.yaml", ["simulate", "{f}", "--objective", "seed-1d"], 2, "5000 digits"),
    ("huge-int.json", ["validate", "{f}"], 2, "5000 digits"),
    ("huge-int.json", ["show", "{f}"], 2, "5000 digits"),
    ("huge-int-metadata.json", ["check-metrics", "--experiment", "{f}", "{log}"], 2, "5000 digits"),
    ("catastrophic-filter.yaml", ["check-metrics", "--experiment", "{f}", "{longlog}"], 1, ""),
    ("file-path-escape.yaml", ["validate", "{f}"], 0, "contains '..'"),
    ("file-path-escape.yaml", ["run", "{f}", "--backend", "local", "--out", "{out}", "-q"], 2,
     "spec.metricsCollectorSpec.source.fileSystemPath.path"),
    ("directory-path-escape.yaml", ["run", "{f}", "--backend", "local", "--out", "{out}", "-q"], 2,
     "leaves the trial's directory"),
]
SCENARIO_CASES = [
    pytest.param("scenario-huge-int.yaml", ["compare", "{f}", "--out", "{out}", "--no-png", "--jobs", "1"], 2, "5000 digits", id="scenario-huge-int"),
    pytest.param("scenario-list-kind.yaml", ["compare", "{f}", "--out", "{out}", "--no-png", "--jobs", "1"], 2,
                 "assertions[0].kind", id="scenario-list-kind"),
]


def _args(template, name, tmp_path: Path) -> list[str]:
    log = tmp_path / "train.log"
    log.write_text("objective=0.5\n")
    values = {"f": str(CORPUS / name), "log": str(log), "longlog": str(CORPUS / "long-line.log"), "out": str(tmp_path / "out")}
    return [a.format(**values) for a in template]


def _ids(case):
    return f"{case[0]}-{case[1][0]}" + ("-" + case[1][1].lstrip("-") if case[1][0] == "check-metrics" else "")


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_corpus_case_in_process(case, tmp_path):
    name, template, code, needle = case
    args = _args(template, name, tmp_path)
    outcome = run_inprocess(args[0], *args[1:])
    assert_clean_inprocess(outcome, f"{args}")
    assert outcome.code == code, outcome.stderr
    assert needle in outcome.stderr + outcome.stdout
    assert not Path("/tmp/katibsim-escape-probe").exists()


@pytest.mark.parametrize("name, template, code, needle", SCENARIO_CASES)
def test_corpus_scenario_case_in_process(name, template, code, needle, tmp_path):
    args = _args(template, name, tmp_path)
    outcome = run_inprocess(args[0], *args[1:])
    assert_clean_inprocess(outcome, f"{args}")
    assert outcome.code == code and needle in outcome.stderr + outcome.stdout


def test_corpus_fifo_named_like_an_event_file(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    os.mkfifo(folder / "events.out.tfevents.1700000000.host")
    outcome = run_inprocess("check-metrics", "--collector", "TensorFlowEvent", "--metric", "accuracy", str(folder))
    assert_clean_inprocess(outcome, "fifo event file")
    assert outcome.code == 1 and "named pipe" in outcome.stdout


def test_every_corpus_file_has_a_case():
    used = {c[0] for c in CASES} | {p.values[0] for p in SCENARIO_CASES} | {"long-line.log"}
    assert {p.name for p in CORPUS.iterdir()} <= used


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_corpus_case_as_a_bounded_subprocess(case, tmp_path):
    name, template, code, needle = case
    outcome = run_cli(*_args(template, name, tmp_path))
    assert_clean(outcome, f"{template} on {name}")
    assert outcome.code == code and needle in outcome.stderr + outcome.stdout


@pytest.mark.slow
def test_corpus_fifo_as_a_bounded_subprocess(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    os.mkfifo(folder / "events.out.tfevents.1700000000.host")
    outcome = run_cli("check-metrics", "--collector", "TensorFlowEvent", "--metric", "accuracy", str(folder))
    assert_clean(outcome, "fifo event file")
    os.mkfifo(tmp_path / "train.log")
    outcome = run_cli("check-metrics", "--collector", "StdOut", "--metric", "accuracy", str(tmp_path / "train.log"))
    assert_clean(outcome, "fifo log")
    assert outcome.code == 2
