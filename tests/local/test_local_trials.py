"""Real subprocess trials of the tiny trainer: succeeding, crashing, hanging past the timeout,
reporting no objective, early stopped while running; and the event files it writes, read back."""

from __future__ import annotations

import json
import re
import sys

import pytest

from katibsim.backends.base import Outcome, RunContext, TrialLaunch
from katibsim.backends.local import LocalBackend
from katibsim.cli import main
from katibsim.collectors import collect
from katibsim.early_stopping import Comparison, Rule
from katibsim.engine.options import SimulationOptions
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

from .conftest import (
    FAKE_IN_IMAGE,
    FAKE_MAP,
    TRAINER,
    TRAINER_IN_IMAGE,
    TRAINER_MAP,
    alive,
    experiment_doc,
    load,
    run_local,
    write_experiment,
)

# Katib's grid (Optuna's GridSampler) picks the points in a seeded random order; random_state 0
# happens to ask the first list entry first, which the medianstop test needs.
GRID = {"algorithmName": "grid", "algorithmSettings": [{"name": "random_state", "value": "0"}]}
TFEVENT = {"source": {"fileSystemPath": {"path": "/train", "kind": "Directory"}}, "collector": {"kind": "TensorFlowEvent"}}


def trainer_command(*extra: str) -> list[str]:
    return ["python", TRAINER_IN_IMAGE, "--learning_rate=0.02", "--batch_size=100", *extra]


def test_trainer_succeeds_and_its_event_files_are_collected_or_missed(tmp_path, trainer_env):
    # Two real trials: events written under the collector's folder /train (Succeeded), and under
    # /elsewhere, which the TensorFlowEvent collector never reads (MetricsUnavailable) — the
    # mistake behind many "metrics unavailable" reports.
    log_dir = {"name": "log_dir", "parameterType": "categorical", "feasibleSpace": {"list": ["/train/metrics", "/elsewhere"]}}
    doc = experiment_doc(
        "events", parameters=[log_dir], algorithm=GRID, collector=TFEVENT, max_trials=2, parallel=2, max_failed=1,
        command=trainer_command("--log_dir=${trialParameters.log_dir}", "--epochs=2"),
    )
    out = tmp_path / "out"
    result = run_local(load(tmp_path, doc), out, mapping=[TRAINER_MAP, "/elsewhere=@trial"])
    ok, missed = sorted(result.trials, key=lambda t: dict(t.assignment)["log_dir"] != "/train/metrics")
    assert result.max_concurrent == 2

    assert dict(ok.assignment)["log_dir"] == "/train/metrics"
    assert ok.condition == "Succeeded" and ok.reason == "TrialSucceeded"
    trial_dir = out / "trials" / ok.name
    assert len(list((trial_dir / "train" / "metrics" / "test").glob("events.out.tfevents.*"))) == 1
    assert len(list((trial_dir / "train" / "metrics" / "train").glob("events.out.tfevents.*"))) == 1
    output = (trial_dir / "output.log").read_text()
    printed = [float(v) for v in re.findall(r"accuracy_1=([0-9.]+)", output)]
    assert len(printed) == 2
    # One report per epoch, read back from the event files (float32 there, 6 decimals printed).
    assert [s for s, _ in ok.curve] == [1, 2]
    assert [v for _, v in ok.curve] == pytest.approx(printed, abs=1e-6)
    assert ok.value == pytest.approx(max(printed), abs=1e-6)  # Katib's default strategy for maximize: max
    command = json.loads((trial_dir / "command.json").read_text())
    assert command["argv"][:2] == [sys.executable, str(TRAINER)]
    assert command["env"]["KATIB_TRIAL_NAME"] == ok.name
    spec = MetricsCollectorSpec(kind="TensorFlowEvent", file_system_path=FileSystemPath("/train", "Directory"))
    res = collect(spec, ["accuracy_1", "loss"], path=trial_dir / "train", katib_path="/train")
    losses = [float(v) for v in re.findall(r"loss=([0-9.]+)", output)]
    assert [float(log.value) for log in res.logs if log.name == "loss"] == pytest.approx(losses, abs=1e-6)
    assert all("cross_entropy" not in (log.where or "") for log in res.logs)  # train/ has no such tag

    assert dict(missed.assignment)["log_dir"] == "/elsewhere"
    assert missed.condition == "MetricsUnavailable" and missed.reason == "MetricsUnavailable"
    assert "objective 'accuracy_1' was never reported" in missed.message
    assert [m.latest for m in missed.metrics if m.name == "accuracy_1"] == ["unavailable"]
    assert list((out / "trials" / missed.name / "elsewhere" / "test").glob("events.out.tfevents.*"))
    assert result.best_trial is not None and result.best_trial.name == ok.name
    # A MetricsUnavailable trial counts as failed: maxFailedTrialCount 1 ends the experiment.
    assert (result.outcome, result.reason) == ("Failed", "ExperimentFailed")
    for t in result.trials:  # every trial left a record for --resume
        assert (out / "trials" / t.name / "trial.json").is_file()


def test_trainer_crashes_and_hangs_past_the_timeout(tmp_path, trainer_env):
    epochs = {"name": "epochs", "parameterType": "categorical", "feasibleSpace": {"list": ["0", "100000"]}}
    doc = experiment_doc("outcomes", parameters=[epochs], algorithm=GRID, max_trials=2, parallel=2, max_failed=2,
                         command=trainer_command("--epochs=${trialParameters.epochs}"))
    result = run_local(load(tmp_path, doc), tmp_path / "out", mapping=[TRAINER_MAP], timeout=3.0)
    crash, hang = sorted(result.trials, key=lambda t: dict(t.assignment)["epochs"] != "0")

    assert crash.condition == "Failed"
    assert crash.reason == "TrialFailed. Job reason: Error"
    assert crash.message.startswith("Trial has failed. Job message: exit code 2: ")
    assert "need --learning_rate > 0" in crash.message
    assert crash.metrics == () and crash.value is None
    assert any("error: need --learning_rate" in line for line in crash.output_tail)
    assert crash.output_path == str(tmp_path / "out" / "trials" / crash.name / "output.log")

    assert hang.condition == "Failed"
    assert hang.reason == "TrialFailed. Job reason: DeadlineExceeded"
    assert "ran longer than the timeout of 3 s" in hang.message
    assert 2.9 <= hang.ended - hang.started < 8
    assert result.best_trial is None


def test_failed_and_metrics_unavailable_trials_are_explained_in_the_cli_output(tmp_path, capsys):
    doc = experiment_doc(
        "crashes", parameters=[{"name": "--x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
        command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}", "--steps=notanumber"], max_trials=1, parallel=1,
    )
    path = write_experiment(tmp_path, doc)
    assert main(["run", str(path), "--map", FAKE_MAP, "--out", str(tmp_path / "o"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "# trial crashes-" in out and " Failed: TrialFailed. Job reason: Error — Trial has failed. Job message: exit code 2" in out
    assert "#   | fake_trainer.py: error: argument --steps: invalid int value: 'notanumber'" in out

    # StdOut looking for "accuracy" while the trainer prints accuracy_1=...: a different name.
    doc = experiment_doc(
        "no-metric", parameters=[{"name": "--x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
        command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], objective="accuracy", max_trials=1, parallel=1,
    )
    path = write_experiment(tmp_path, doc)
    assert main(["run", str(path), "--map", FAKE_MAP, "--out", str(tmp_path / "o2"), "-q", "-o", "table"]) == 0
    text = capsys.readouterr().out
    result = json.loads((tmp_path / "o2" / "result.json").read_text())
    (trial,) = result["trials"]
    assert trial["condition"] == "MetricsUnavailable"
    assert "objective 'accuracy' was never reported" in trial["message"]
    assert f"trial {trial['name']} MetricsUnavailable: MetricsUnavailable — Metrics are not available. Job message: " in text
    assert "  | accuracy_1=0." in text
    assert "real trials on the local backend" in text


def _backend_with(tmp_path, doc, **kw):
    exp = load(tmp_path, doc)
    backend = LocalBackend(out_dir=tmp_path / "out", handle_signals=False, kill_grace=1.0, **kw)
    backend.open(RunContext(experiment=exp, options=SimulationOptions(), metric_names=("accuracy_1",), maximize=True))
    return exp, backend


def test_collector_early_stops_a_live_trial_and_ends_its_process(tmp_path, trainer_env):
    doc = experiment_doc(
        "live", parameters=[{"name": "--batch_size", "parameterType": "int", "feasibleSpace": {"min": "100", "max": "120"}}],
        command=trainer_command("--epochs=1000"), max_trials=1, parallel=1,
    )
    exp, backend = _backend_with(tmp_path, doc, mapping=[TRAINER_MAP])
    # Katib's collector checks "best accuracy so far < 0.999" at the 2nd report (a medianstop-shaped rule).
    rule = Rule(metric="accuracy_1", value=0.999, comparison=Comparison.LESS, start_step=2)
    try:
        backend.start(TrialLaunch(name="live-1", index=0, assignment={}, parameter_assignments=(("--batch_size", "110"),),
                                  rules=(rule,)))
        pid = backend._running["live-1"].proc.pid
        events = backend.wait()
    finally:
        backend.close()
    (ev,) = events
    assert ev.outcome == Outcome.EARLY_STOPPED
    assert ev.stopped_at == 2
    assert len(ev.reports["accuracy_1"]) >= 2
    assert not alive(pid)
    assert ev.time - ev.started < 60


def test_medianstop_stops_a_worse_trial_while_it_runs(tmp_path):
    # Trial 1 (x=0.9) succeeds; medianstop (1 trial required, start step 1) then gives
    # "accuracy_1 less 0.91 at report 1", and trial 2 (x=0.1) is stopped after its first report.
    doc = experiment_doc(
        "median", parameters=[{"name": "--x", "parameterType": "categorical", "feasibleSpace": {"list": ["0.9", "0.1"]}}],
        algorithm=GRID, command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}", "--steps=40", "--delay=0.05"],
        max_trials=2, parallel=1, retain=True,
        early_stopping={"algorithmName": "medianstop", "algorithmSettings": [
            {"name": "min_trials_required", "value": "1"}, {"name": "start_step", "value": "1"}]},
    )
    result = run_local(load(tmp_path, doc), tmp_path / "out", mapping=[FAKE_MAP])
    first, second = result.trials
    assert dict(first.assignment)["--x"] == "0.9" and first.condition == "Succeeded"
    assert dict(second.assignment)["--x"] == "0.1"
    assert second.condition == "EarlyStopped" and second.reason == "TrialEarlyStopped"
    assert second.stopped_at == 1
    assert [r.to_katib()["comparison"] for r in second.rules] == ["less"]
    printed = (tmp_path / "out" / "trials" / second.name / "output.log").read_text().count("accuracy_1=")
    assert 1 <= printed < 40
