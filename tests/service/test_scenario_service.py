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


# -- the service is part of what a stored run's key covers ----------------------------------------------
_EXPERIMENT = {
    "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "h"},
    "spec": {
        "objective": {"type": "minimize", "objectiveMetricName": "branin"},
        "algorithm": {"algorithmName": "random"}, "maxTrialCount": 4, "parallelTrialCount": 2,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "10"}}],
        "trialTemplate": {
            "primaryContainerName": "training", "trialParameters": [{"name": "x", "reference": "x"}],
            "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "training", "image": "busybox", "command": ["echo", "${trialParameters.x}"]}],
            }}}},
        },
    },
}


def _keyed(service=None):
    variant = {"name": "v", "algorithm": "random"}
    if service is not None:
        variant["service"] = service
    return scenario_from_dict({"name": "h", "experiment": _EXPERIMENT, "objective": "branin", "seeds": {"count": 2},
                               "variants": [variant]})


def test_a_served_variant_does_not_reuse_an_in_process_result(tmp_path):
    from katibsim.runner import plan

    local, served, elsewhere = _keyed(), _keyed("127.0.0.1:6789"), _keyed("10.0.0.1:6789")
    keys = [[t.key for t in plan(sc, tmp_path)] for sc in (local, served, elsewhere)]
    # Same variant name, so the same files under --out: only the key tells the runs apart.
    assert [t.path for t in plan(local, tmp_path)] == [t.path for t in plan(served, tmp_path)]
    assert len({k for ks in keys for k in ks}) == 6
    assert len({local.content_hash(), served.content_hash(), elsewhere.content_hash()}) == 3


def test_keys_without_a_service_are_the_ones_stored_results_carry(monkeypatch):
    """Pinned values, computed before `service` entered the hashes: a scenario without one keeps
    its run keys and content hash, so `compare --resume` still reuses what it stored."""
    import katibsim.scenario.model as model

    monkeypatch.setattr(model, "__version__", "0")  # run_key covers katibsim's version
    sc = _keyed()
    assert sc.content_hash() == "eb1c5b96c3f1b5d3"
    assert sc.run_key(sc.variants[0], 1) == "2aa258f50e1962b6"
