"""``enas`` and ``darts``: Katib's NAS validation, and simulate / compare refusing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from katibsim.algorithm import ObjectiveInfo, SettingsError
from katibsim.cli import main
from katibsim.commands.validate import check_file
from katibsim.engine.run import simulate
from katibsim.errors import InputError
from katibsim.spec.loader import load_experiment
from katibsim.spec.space import SearchSpace
from katibsim_plugins.katib_nas import Darts, Enas

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "katib"
ACC = ObjectiveInfo("Validation-Accuracy", maximize=True)
EMPTY = SearchSpace.from_specs([])


@pytest.mark.parametrize("name", ["enas-cpu.yaml", "enas-gpu.yaml", "darts-cpu.yaml"])
def test_katib_nas_examples_are_valid(name, capsys):
    assert main(["validate", str(EXAMPLES / name)]) == 0


def test_darts_gpu_is_invalid_in_katib_too():
    # Its skip_connection operation has no parameters; Katib's validate_operations requires them.
    report = check_file(str(EXAMPLES / "darts-gpu.yaml"))
    errors = [p for v in report.verdicts for p in v.problems if p.severity == "error"]
    assert [e.path for e in errors] == ["spec.nasConfig.operations[4].parameters"]
    assert errors[0].message.startswith("Missing ParameterConfigs in Operation:")


@pytest.mark.parametrize("settings,message", [
    ({"controller_hidden_size": "0"}, "Algorithm Setting controller_hidden_size: 0 with int type must be in range [1, inf)"),
    ({"controller_temperature": "0"}, "Algorithm Setting controller_temperature: 0.0 with float type must be in range (0, inf)"),
    ({"controller_baseline_decay": "1.5"}, "Algorithm Setting controller_baseline_decay: 1.5 with float type must be in range (0.0, 1.0)"),
    ({"controller_train_steps": "x"}, "Algorithm Setting controller_train_steps must be int type: exception invalid literal for int() with base 10: 'x'"),
    ({"batch_size": "32"}, "Unknown Algorithm Setting name: batch_size"),
])
def test_enas_settings(settings, message):
    with pytest.raises(SettingsError) as err:
        Enas(EMPTY, ACC, settings, 0)
    assert err.value.message == message


def test_enas_accepts_none_where_katib_does():
    Enas(EMPTY, ACC, {"controller_temperature": "None", "controller_skip_weight": "None"}, 0)
    with pytest.raises(SettingsError):
        Enas(EMPTY, ACC, {"controller_hidden_size": "None"}, 0)


@pytest.mark.parametrize("settings,message", [
    ({"num_epochs": "0"}, "num_epochs should be greater than zero"),
    ({"w_lr": "-1"}, "w_lr should be greater than or equal to zero"),
    ({"batch_size": "0"}, "batch_size should be greater than or equal to one"),
    ({"num_workers": "-1"}, "num_workers should be greater than or equal to zero"),
    ({"num_nodes": "0"}, "num_nodes should be greater than or equal to one"),
    ({"w_lr": "None"}, "failed to validate w_lr(None): could not convert string to float: 'None'"),
])
def test_darts_settings(settings, message):
    with pytest.raises(SettingsError) as err:
        Darts(EMPTY, ACC, settings, 0)
    assert err.value.message == message


def test_darts_accepts_unknown_names_and_batch_size_none():
    Darts(EMPTY, ACC, {"anything": "1", "batch_size": "None"}, 0)


def test_enas_graph_config_is_required(tmp_path):
    text = (EXAMPLES / "enas-cpu.yaml").read_text().replace("      numLayers: 1\n", "")
    path = tmp_path / "no-layers.yaml"
    path.write_text(text)
    report = check_file(str(path))
    errors = [p for v in report.verdicts for p in v.problems if p.severity == "error"]
    assert [e.path for e in errors] == ["spec.nasConfig.graphConfig.numLayers"]
    assert errors[0].message.startswith("Missing NumLayers in GraphConfig:")


def test_a_double_operation_parameter_needs_a_step(tmp_path):
    text = (EXAMPLES / "darts-cpu.yaml").read_text()
    text = text.replace('            parameterType: categorical\n            feasibleSpace:\n              list:\n                - "3"\n',
                        '            parameterType: double\n            feasibleSpace:\n              min: "1"\n              max: "3"\n', 1)
    path = tmp_path / "double.yaml"
    path.write_text(text)
    errors = [p for v in check_file(str(path)).verdicts for p in v.problems if p.severity == "error"]
    assert errors and errors[0].message.startswith("Step parameter should be > 0 in ParameterConfig.feasibleSpace")


@pytest.mark.parametrize("name", ["enas-cpu.yaml", "darts-cpu.yaml"])
def test_simulate_refuses_architecture_search(name, capsys):
    code = main(["simulate", str(EXAMPLES / name), "--objective", "branin"])
    err = capsys.readouterr().err
    assert code == 2
    assert "katibsim does not simulate architecture search" in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_the_engine_refuses_it_too():
    with pytest.raises(InputError, match="does not simulate architecture search"):
        simulate(load_experiment(EXAMPLES / "enas-cpu.yaml"), "branin")


def test_nas_classes_are_registered_and_not_simulatable():
    from katibsim import plugins

    found = plugins.algorithms()
    assert found["enas"] is Enas and found["darts"] is Darts
    assert not Enas.simulatable and not Darts.simulatable
    # The conformance kit does not apply: these algorithms never suggest in katibsim.
