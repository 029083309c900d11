"""Fuzzing the commands that read Katib Experiments: mutated examples through validate, show,
check-metrics --experiment and simulate. Exit 0, 1 or 2 only; never a traceback, a hang or a
blow-up (bounds in fuzz_helpers). The default suite tries a few inputs; `make test-slow` many."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_helpers import EXAMPLES, assert_clean_inprocess, run_inprocess
from mutate import apply_edits, apply_text_edits, clamp_budget, dump, edits, text_edits

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in EXAMPLE_FILES}
DOCS = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
HEADERS = {name: "".join(line + "\n" for line in text.splitlines() if line.startswith("#")) for name, text in TEXTS.items()}
OBJECTIVES = {name: (m.group(1).rstrip(".") if (m := re.search(r"Objective:\s*([A-Za-z0-9][\w.-]*)", HEADERS[name]))
                     else "mnist-tfjob" if name.startswith("tfjob") else None) for name in TEXTS}
SIMULABLE = sorted(name for name, objective in OBJECTIVES.items() if objective and objective.lower() != "none")
LOG = "epoch 1 accuracy=0.5 loss=0.3 objective=0.7 Validation-accuracy=0.4 accuracy_1=0.6\n{\"accuracy\": \"0.5\"}\n"

FEW = settings(max_examples=int(os.environ.get("KATIBSIM_FUZZ_FEW", "4")), deadline=None, derandomize=False,
               suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=int(os.environ.get("KATIBSIM_FUZZ_MANY", "400")), deadline=None,
                suppress_health_check=list(HealthCheck))

mutations = st.one_of(st.tuples(st.just("doc"), edits, st.booleans()), st.tuples(st.just("text"), text_edits, st.just(False)))
inputs = st.tuples(st.sampled_from(sorted(TEXTS)), mutations)
simulable = st.tuples(st.sampled_from(SIMULABLE), st.tuples(st.just("doc"), edits, st.booleans()))


def materialise(case, folder: Path, *, simulate: bool = False) -> Path:
    name, (how, plan, as_json) = case
    if how == "doc":
        doc = apply_edits(DOCS[name], plan)
        if simulate:
            doc = clamp_budget(doc)
        text = dump(doc, as_json)
        # keep the header comments (the examples name their simulated objective there) in YAML
        text = text if as_json else HEADERS[name] + text
    else:
        text = apply_text_edits(TEXTS[name], plan)
    path = folder / (Path(name).stem + (".json" if as_json else ".yaml"))
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def exercise(case, commands=("validate", "show", "check-metrics")) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path = materialise(case, folder)
        log = folder / "train.log"
        log.write_text(LOG)
        for command in commands:
            args = {"validate": [str(path)], "show": [str(path)], "check-metrics": ["--experiment", str(path), str(log)]}[command]
            assert_clean_inprocess(run_inprocess(command, *args), f"{command} on {case!r}")


def exercise_simulate(case) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = materialise(case, Path(d), simulate=True)
        # An Experiment without maxTrialCount runs until katibsim's safety stop (10,000 trials by
        # default, by design); the harness lowers that stop so one input stays a few seconds.
        outcome = run_inprocess("simulate", str(path), "--objective", OBJECTIVES[case[0]], "-o", "json",
                                "--sim-option", "unbounded_trial_limit=12")
        assert_clean_inprocess(outcome, f"simulate on {case!r}")


@FEW
@given(inputs)
def test_mutated_experiments_read_cleanly(case):
    exercise(case)


@FEW
@given(simulable)
def test_mutated_experiments_simulate_cleanly(case):
    exercise_simulate(case)


@pytest.mark.slow
@MANY
@given(inputs)
def test_many_mutated_experiments_read_cleanly(case):
    exercise(case)


@pytest.mark.slow
@settings(MANY, max_examples=max(20, MANY.max_examples // 4))
@given(simulable)
def test_many_mutated_experiments_simulate_cleanly(case):
    exercise_simulate(case)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_every_example_itself_is_read_cleanly(name, tmp_path):
    path = tmp_path / name
    path.write_text(TEXTS[name])
    for command, args in (("validate", [str(path)]), ("show", [str(path)])):
        outcome = run_inprocess(command, *args)
        assert_clean_inprocess(outcome, f"{command} {name}")
