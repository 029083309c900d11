#!/usr/bin/env python3
"""Make the shipped real trials: run ``mnist-random.yaml`` for real and write what it produced.

    python examples/workload/make_trials.py          # from the repository root, in katibsim's venv

It runs ``katibsim run examples/workload/mnist-random.yaml --backend local`` (80 trials of the tiny
trainer ``examples/trainers/mnist_with_summaries.py``, 3 at a time, random search over
``--learning_rate`` and ``--batch_size``; about two minutes on two cores) in a temporary folder and
writes next to this script:

- ``result.json``: katibsim's run result, with each trial's ``output_path`` made relative to the
  run folder (the temporary folder is gone afterwards) and without the trials' output tails;
- ``trials.yaml``: the same trials as ``kubectl get trials -l katib.kubeflow.org/experiment=mnist-random
  -o yaml`` prints them (a ``v1`` ``List`` of ``Trial`` objects, written by katibsim's Trial
  object writer);
- ``experiment.yaml``: the Experiment as ``kubectl get experiment mnist-random -o yaml`` shows it;
- ``trials.csv``: one row per trial (``docs/workload-formats.md``): name, status, the two
  parameters, ``accuracy_1`` (its ``max`` strategy value), ``duration`` (seconds) and the
  per-epoch accuracies ``accuracy_1@1`` ... ``accuracy_1@10``. (``loss`` is left out: without the
  Experiment, a table's columns other than the metrics are read as parameters.)

The trials' values do not depend on the machine (the trainer's seed and split are fixed, and the
suggestions follow ``random_state``); their times do.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EXPERIMENT = HERE / "mnist-random.yaml"


def _katibsim() -> str:
    beside = Path(sys.executable).parent / "katibsim"
    found = str(beside) if beside.exists() else shutil.which("katibsim")
    if not found:
        raise SystemExit("katibsim is not installed in this interpreter's environment (make venv)")
    return found


def run(out: Path) -> list[dict]:
    """The run, in ``out``; returns the documents it printed (Experiment, Suggestion, Trials)."""
    root = HERE.parents[1]
    cmd = [_katibsim(), "run", str(EXPERIMENT.relative_to(root)), "--backend", "local", "--out", str(out),
           "-q", "--trial-objects", "-o", "yaml"]
    done = subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True)
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def trimmed_result(out: Path) -> dict:
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    for t in result["trials"]:
        t.pop("output_tail", None)
        if t.get("output_path"):
            t["output_path"] = str(Path(t["output_path"]).relative_to(out))
    return result


def csv_rows(result: dict) -> tuple[list[str], list[dict]]:
    names = [p["name"] for p in result["spec"]["parameters"]]
    steps = sorted({int(s) for t in result["trials"] for s, _ in t["curve"]})
    header = ["name", "status", *names, "accuracy_1", "duration", *[f"accuracy_1@{s}" for s in steps]]
    rows = []
    for t in result["trials"]:
        row = {"name": t["name"], "status": t["condition"], **{a["name"]: a["value"] for a in t["assignment"]}}
        row["accuracy_1"] = "" if t["value"] is None else t["value"]
        if t.get("ended") is not None:
            row["duration"] = round(t["ended"] - (t["started"] if t["started"] is not None else t["created"]), 3)
        row.update({f"accuracy_1@{s}": v for s, v in t["curve"]})
        rows.append(row)
    return header, rows


def write_csv(result: dict) -> None:
    header, rows = csv_rows(result)
    with open(HERE / "trials.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="katibsim-workload-") as tmp:
        out = Path(tmp) / "run"
        docs = run(out)
        result = trimmed_result(out)
    experiment = next(d for d in docs if d.get("kind") == "Experiment")
    trials = [d for d in docs if d.get("kind") == "Trial"]
    listing = {"apiVersion": "v1", "items": trials, "kind": "List", "metadata": {"resourceVersion": ""}}
    (HERE / "result.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    dump = dict(sort_keys=False, default_flow_style=False, width=120)
    (HERE / "trials.yaml").write_text(yaml.safe_dump(listing, **dump), encoding="utf-8")
    (HERE / "experiment.yaml").write_text(yaml.safe_dump(experiment, **dump), encoding="utf-8")
    write_csv(result)
    ok = sum(t["condition"] == "Succeeded" for t in result["trials"])
    print(f"{len(result['trials'])} trials ({ok} succeeded) -> {HERE.name}/result.json, trials.yaml, experiment.yaml, "
          "trials.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
