"""A scenario variant's ``service: HOST:PORT``: its runs are answered by that service, and equal the in-process variant's."""

from __future__ import annotations

import pytest

from katibsim.errors import SpecError
from katibsim.runner import RunTask, simulate_envelope
from katibsim.scenario import scenario_from_dict


def _scenario(tmp_path, experiment_path, service):
    return scenario_from_dict({
        "name": "svc",
        "experiment": str(experiment_path),
        "objective": "branin",
        "seeds": {"count": 1},
        "variants": [{"name": "local", "algorithm": "random"},
                     {"name": "remote", "algorithm": "random", "service": service}],
    }, file=str(tmp_path / "svc.yaml"))


def test_service_variant_matches_the_in_process_variant(served, small_experiment, tmp_path):
    server = served()
    sc = _scenario(tmp_path, small_experiment("random"), server.address)
    assert sc.variant("remote").service == server.address
    runs = {}
    for name in ("local", "remote"):
        task = RunTask(sc, name, 0, sc.seeds.seed(0), str(tmp_path / f"{name}.json"), name)
        runs[name] = simulate_envelope(task)["result"]
    assert runs["remote"] == runs["local"]
    assert server.suggestion.builds == 1


def test_service_must_be_host_port(tmp_path, small_experiment):
    with pytest.raises(SpecError) as err:
        _scenario(tmp_path, small_experiment("random"), "nowhere")
    assert "variants[1].service" in str(err.value)
