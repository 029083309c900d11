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


def test_text_lists_random_and_grid_with_settings(capsys):
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert "random 0.1.0  built-in (katibsim_plugins.random_search)" in out
    assert "grid 0.1.0  built-in (katibsim_plugins.grid)" in out
    assert "  algorithm grid: Grid search" in out
    assert "double needs step: yes; batch: yes; multi-fidelity: no" in out
    assert "      random_state = (none): " in out
    assert "      order = shuffled [katibsim]: " in out


def test_json_has_versions_sources_capabilities_and_defaults(capsys):
    code, out, _ = run(capsys, "-o", "json")
    assert code == 0
    by_name = {p["name"]: p for p in json.loads(out)["plugins"]}
    grid = by_name["grid"]
    assert (grid["version"], grid["distribution"], grid["source"]) == ("0.1.0", "katibsim", "builtin")
    assert grid["hooks"] == ["katibsim_register_algorithms"] and grid["registers"] == {"algorithms": ["grid"]}
    (algo,) = grid["algorithms"]
    assert algo["capabilities"]["double_needs_step"] is True
    assert {s["name"]: s["default"] for s in algo["settings"]} == {"random_state": None, "order": "shuffled"}
    assert {s["name"]: s["katib"] for s in algo["settings"]} == {"random_state": True, "order": False}
    assert by_name["random"]["algorithms"][0]["capabilities"]["distributions"] == ["logNormal", "logUniform", "normal", "uniform"]


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
