"""``katibsim surrogate fit|predict`` from the command line: output, model file, exit codes."""

from __future__ import annotations

import json

import pytest

from katibsim.cli import main
from katibsim_plugins.from_trials import command
from katibsim_plugins.from_trials.surrogate import fit_table, write_model
from trial_table_helpers import categorical_table, smooth_table


@pytest.fixture
def table_reader(monkeypatch):
    """``fit`` reads the table through the workload readers; here a synthetic table stands in."""
    tables = {"smooth.csv": smooth_table(n=30), "cat.json": categorical_table()}
    monkeypatch.setattr(command, "read_table", lambda path, experiment=None, metric=None, direction=None: tables[path])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "cat.json"
    write_model(fit_table(categorical_table(), "gp"), path)
    return str(path)


def test_fit_prints_quality_region_trials_and_writes_the_model(table_reader, tmp_path, capsys):
    out = tmp_path / "model.json"
    assert main(["surrogate", "fit", "smooth.csv", "--folds", "3", "--compare", "--model", str(out)]) == 0
    text = capsys.readouterr().out
    assert "surrogate of accuracy (maximize) from smooth.csv" in text
    assert "trials: 30 used, 0 skipped of 30" in text
    assert "(log scale)" in text and "cross-validation (3 folds" in text
    assert text.count("\n  gp     *") == 1 and "\n  forest " in text
    assert "learning curves: 5 steps from 30 trials (metric strategy max)" in text
    assert f"model written to {out}" in text
    doc = json.loads(out.read_text())
    assert doc["quality"]["kind"] == "gp" and doc["quality"]["folds"] == 3


def test_fit_json(table_reader, capsys):
    assert main(["surrogate", "fit", "cat.json", "--kind", "forest", "--folds", "0", "-o", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["model"] == "forest" and r["quality"] is None and r["curve"] is None and r["duration"] is None
    assert r["region"][1] == {"name": "opt", "kind": "categorical", "values": ["sgd", "adam"]}
    assert r["optimum"]["at"]["opt"] == "adam" and r["trials"]["used"] == 30


def test_predict_json_in_the_order_given(model, capsys):
    argv = ["surrogate", "predict", model, "--at", "x=0.5,opt=sgd", "--at", "opt=adam,x=0.2", "-o", "json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["at"] for r in rows] == [{"x": 0.5, "opt": "sgd"}, {"x": 0.2, "opt": "adam"}]
    assert all(r["low"] < r["mean"] < r["high"] for r in rows)
    assert rows[0]["mean"] > rows[1]["mean"] + 0.5  # sgd's offset
    assert main(argv + ["--level", "0.5"]) == 0
    narrow = json.loads(capsys.readouterr().out)
    assert narrow[0]["high"] - narrow[0]["low"] < rows[0]["high"] - rows[0]["low"]


def test_predict_points_csv_and_table(model, tmp_path, capsys):
    pts = tmp_path / "p.csv"
    pts.write_text("opt,x\nadam,0.5\nrmsprop,0.5\n")
    assert main(["surrogate", "predict", model, "--points", str(pts)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["x", "opt", "mean", "low", "(95%)", "high", "(95%)", "note"]
    assert "rmsprop" in out.splitlines()[2] and out.splitlines()[2].endswith("extrapolated")


@pytest.mark.parametrize("args, message", [
    (["--at", "x=0.5"], "missing parameter(s) opt"),
    (["--at", "x=0.5,opt=sgd,y=1"], "unknown parameter(s) y"),
    (["--at", "x=fast,opt=sgd"], "x: 'fast' is not a number"),
    (["--at", "x=0.5,opt=sgd", "--level", "1.5"], "--level 1.5"),
    ([], "predict needs points"),
])
def test_predict_errors_exit_2_naming_the_parameter(model, capsys, args, message):
    assert main(["surrogate", "predict", model, *args]) == 2
    assert message in capsys.readouterr().err


def test_predict_bad_csv_row(model, tmp_path, capsys):
    pts = tmp_path / "p.csv"
    pts.write_text("x,opt\n0.5,sgd\nabc,sgd\n")
    assert main(["surrogate", "predict", model, "--points", str(pts)]) == 2
    assert f"{pts}: row 3, column: x: 'abc' is not a number" in capsys.readouterr().err


def test_surrogate_without_subcommand_is_usage(capsys):
    assert main(["surrogate"]) == 2
    assert "fit|predict" in capsys.readouterr().err


def test_predict_keeps_an_int_parameter_an_int(tmp_path, capsys):
    path = tmp_path / "smooth.json"
    write_model(fit_table(smooth_table(n=20, steps=0), "gp"), path)
    assert main(["surrogate", "predict", str(path), "--at", "lr=0.01,batch=64", "--at", "lr=0.01,batch=64.5",
                 "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["at"]["batch"] == 64 and isinstance(rows[0]["at"]["batch"], int)
    assert rows[1]["at"]["batch"] == 64.5


def test_fit_takes_the_direction_a_table_does_not_say(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("lr,acc\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,0.65\n0.5,0.6\n")
    assert main(["surrogate", "fit", str(table), "--metric", "acc", "--folds", "0"]) == 0
    assert "surrogate of acc (direction unknown)" in capsys.readouterr().out
    assert main(["surrogate", "fit", str(table), "--metric", "acc", "--folds", "0", "--direction", "minimize"]) == 0
    assert "surrogate of acc (minimize)" in capsys.readouterr().out


def test_predict_points_file_problems_and_a_spreadsheets_byte_order_mark(model, tmp_path, capsys):
    pts = tmp_path / "p.csv"
    pts.write_bytes(b"\xff\xfe\x00x")
    assert main(["surrogate", "predict", model, "--points", str(pts)]) == 2
    assert f"{pts}: not UTF-8 text" in capsys.readouterr().err
    pts.write_text("x,x,opt\n0.5,0.2,sgd\n")
    assert main(["surrogate", "predict", model, "--points", str(pts)]) == 2
    assert f"{pts}: header: column(s) x given twice" in capsys.readouterr().err
    pts.write_text("\ufeffx,opt\n0.5,sgd\n", encoding="utf-8")  # as Excel writes CSV
    assert main(["surrogate", "predict", model, "--points", str(pts), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["at"] == {"x": 0.5, "opt": "sgd"}


def test_fit_warns_when_the_surrogate_is_no_stand_in_for_the_job(tmp_path, capsys):
    """Five trials of noise: the held-out ranking is poor, and fit says so; a good fit says nothing."""
    import numpy as np

    rng = np.random.default_rng(3)
    table = tmp_path / "noise.csv"
    table.write_text("lr,acc\n" + "".join(f"{rng.uniform(0, 1):.4f},{rng.uniform(0, 1):.4f}\n" for _ in range(6)))
    assert main(["surrogate", "fit", str(table), "--metric", "acc", "--direction", "maximize", "--folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "warning: this surrogate is not a good stand-in for the job: it ranks held-out trials poorly" in out
    from katibsim_plugins.from_trials.command import quality_warning

    assert quality_warning({"spearman": 0.85, "coverage95": 0.91}) is None
    assert "holds only 60%" in quality_warning({"spearman": 0.85, "coverage95": 0.6})
