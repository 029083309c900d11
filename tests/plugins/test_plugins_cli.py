"""`katibsim plugins`: every plugin, what it registers, capabilities and settings; load errors shown."""

from __future__ import annotations

import json

import pytest

from katibsim import plugins
from katibsim.cli import main
from katibsim.hookspecs import hookimpl


def run(capsys, *args):
    code = main(["plugins", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_text_lists_katibs_algorithms_with_settings(capsys):
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert "katib_hyperopt 0.1.0  built-in (katibsim_plugins.katib_hyperopt.plugin)" in out
    assert "katib_optuna 0.1.0  built-in (katibsim_plugins.katib_optuna.plugin)" in out
    assert "  algorithm grid: Katib's grid (Optuna 3.3.0 GridSampler" in out
    assert "  algorithm tpe: Katib's tpe (hyperopt 0.2.5" in out
    assert "double needs step: yes; batch: yes; multi-fidelity: no" in out
    assert "      random_state = (none): " in out
    assert "      n_EI_candidates = (none): int > 0; hyperopt's default 24" in out


def test_json_has_versions_sources_capabilities_and_defaults(capsys):
    code, out, _ = run(capsys, "-o", "json")
    assert code == 0
    by_name = {p["name"]: p for p in json.loads(out)["plugins"]}
    optuna = by_name["katib_optuna"]
    assert (optuna["version"], optuna["distribution"], optuna["source"]) == ("0.1.0", "katibsim", "builtin")
    assert optuna["hooks"] == ["katibsim_register_algorithms"]
    assert optuna["registers"] == {"algorithms": ["grid", "multivariate-tpe"]}
    grid = {a["name"]: a for a in optuna["algorithms"]}["grid"]
    assert grid["capabilities"]["double_needs_step"] is True
    assert {s["name"]: s["default"] for s in grid["settings"]} == {"random_state": None}
    assert {s["name"]: s["katib"] for s in grid["settings"]} == {"random_state": True}
    hyperopt = {a["name"]: a for a in by_name["katib_hyperopt"]["algorithms"]}
    assert hyperopt["random"]["capabilities"]["distributions"] == ["logNormal", "logUniform", "normal", "uniform"]


@pytest.fixture
def broken_plugin():
    class Broken:
        @staticmethod
        @hookimpl
        def katibsim_register_objectives(register):
            raise RuntimeError("table file missing")

    plugins.pm.register(Broken, name="broken-objectives")
    yield
    plugins.pm.unregister(name="broken-objectives")


def test_load_errors_are_shown(capsys, broken_plugin):
    code, out, _ = run(capsys)
    assert code == 0
    assert "failed to load:" in out
    assert "  broken-objectives: katibsim_register_objectives raised RuntimeError: table file missing" in out
    code, out, _ = run(capsys, "-o", "json")
    failed = {p["name"]: p for p in json.loads(out)["plugins"] if p["error"]}
    assert failed["broken-objectives"]["source"] == "runtime"
    assert "table file missing" in failed["broken-objectives"]["error"]


def test_bad_output_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["plugins", "-o", "yaml"])
    assert info.value.code == 2
