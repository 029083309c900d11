"""Every registered algorithm served over gRPC and called back through --suggestion-service gives
the run it gives in process, byte for byte (or fails the same way)."""

from __future__ import annotations

import pytest

from katibsim import plugins
from katibsim.cli import main


def _simulate(capsys, path, *extra: str) -> tuple[int, str, str]:
    rc = main(["simulate", str(path), "--objective", "branin", "-o", "json", "--seed", "3", *extra])
    out, err = capsys.readouterr()
    return rc, out, err


# Settings an algorithm needs before it runs the small experiment at all (pbt has no defaults).
SETTINGS = {
    "pbt": ("suggestion_trial_dir=/var/log/katib/checkpoints/", "n_population=5", "truncation_threshold=0.4"),
}


@pytest.mark.parametrize("name", sorted(plugins.algorithms()))
def test_served_algorithm_gives_the_in_process_run(name, served, small_experiment, capsys):
    server = served()
    path = small_experiment(name)
    settings = [arg for s in SETTINGS.get(name, ()) for arg in ("--algorithm-setting", s)]
    local = _simulate(capsys, path, *settings)
    remote = _simulate(capsys, path, *settings, "--suggestion-service", server.address)
    if name in SETTINGS:
        assert local[0] == 0, local[2]
    if local[0] == 0:
        assert remote[0] == 0, remote[2]
        assert remote[1] == local[1]
        assert server.suggestion.builds == 1  # one live algorithm for the whole experiment
    else:
        # An experiment this algorithm refuses: refused through the service too (its message in Katib's wrapping).
        assert remote[0] != 0
        assert local[2].strip()


def test_settings_travel_and_change_the_answer(served, small_experiment, capsys):
    server = served()
    path = small_experiment("random")
    a = _simulate(capsys, path, "--suggestion-service", server.address, "--algorithm-setting", "random_state=7")
    b = _simulate(capsys, path, "--algorithm-setting", "random_state=7")
    assert a[0] == b[0] == 0
    assert a[1] == b[1]


def test_restarted_server_rebuilds_from_the_trials_it_is_sent(served, small_experiment, capsys):
    """A pod killed mid-experiment and started again: katibsim-bo rebuilds from the history alone
    (Katib's grid would not: its Optuna study is lost), so the run is the in-process run; the new
    server built its own algorithm."""
    from katibsim.service import client as client_mod

    server = served()
    path = small_experiment("katibsim-bo")
    calls = {"n": 0}
    original = client_mod.RemoteAlgorithm._call

    def restarting_call(self, request):
        calls["n"] += 1
        if calls["n"] == 2:
            server.restart(after=0.5)  # down when this call is made: the client waits for it
        return original(self, request)

    local = _simulate(capsys, path)
    client_mod.RemoteAlgorithm._call = restarting_call
    try:
        remote = _simulate(capsys, path, "--suggestion-service", server.address)
    finally:
        client_mod.RemoteAlgorithm._call = original
    assert calls["n"] >= 3
    assert remote[0] == local[0] == 0, remote[2]
    assert remote[1] == local[1]
    assert server.suggestion.builds == 1  # the restarted server's own, fresh object


def test_served_hyperband_gives_the_in_process_run(served, capsys):
    """hyperband's small experiment above is refused both ways (it needs resource_name and r_l), so
    Katib's own hyperband example is run here: its bracket state travels in the Suggestion's
    algorithmSettings, and the served run is still the in-process run."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "katib" / "hyperband.yaml"
    server = served()
    opts = ("--objective-option", "fidelity=num-epochs")
    local = _simulate(capsys, path, *opts)
    remote = _simulate(capsys, path, *opts, "--suggestion-service", server.address)
    assert local[0] == 0, local[2]
    assert remote[0] == 0, remote[2]
    assert remote[1] == local[1]


def test_served_pbt_gives_the_in_process_run(served, capsys):
    """Katib's pbt example on an objective that resumes from checkpoints: each child trial
    continues from its parent's, named by the parent label the reply carries (Katib's PBT puts
    its generation and parent labels in GetSuggestionsReply), so without the labels the served
    run trains the children from scratch and differs."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "katib" / "simple-pbt-counts-fixed.yaml"
    server = served()
    opts = ("--objective", "mnist-tfjob", "--objective-option", "batch_size=100", "--objective-option", "epochs=2",
            "--allow-objective-mismatch=metric,range")
    local = _simulate(capsys, path, *opts)
    remote = _simulate(capsys, path, *opts, "--suggestion-service", server.address)
    assert local[0] == 0, local[2]
    assert remote[0] == 0, remote[2]
    assert remote[1] == local[1]
    assert server.suggestion.builds == 1
    # The run reached PBT's later generations, whose trials carry a parent.
    trials = json.loads(local[1])["trials"]
    generations = {t["metadata"]["labels"].get("pbt.suggestion.katib.kubeflow.org/generation") for t in trials}
    assert {"0", "1"} <= generations


def test_hyperband_state_travels_in_the_algorithm_settings_across_a_restart(served, capsys, tmp_path):
    """Katib's hyperband keeps its bracket in the Suggestion's status.algorithmSettings: each reply's
    ``algorithm`` carries it, and the controller merges it into the next request's settings. So a
    server restarted mid-experiment, which has lost its live algorithm, continues the bracket and
    the run is still the in-process run."""
    from pathlib import Path

    from katibsim.service import client as client_mod

    example = Path(__file__).resolve().parents[2] / "examples" / "katib" / "hyperband.yaml"
    # Past its first rung (maxTrialCount 2 ends the example there): Katib's next call asks for a
    # child rung of another size, which fails and is retried with the state the first reply left.
    path = tmp_path / "hyperband-longer.yaml"
    path.write_text(example.read_text(encoding="utf-8").replace("maxTrialCount: 2", "maxTrialCount: 6"), encoding="utf-8")
    opts = ("--objective-option", "fidelity=num-epochs")
    server = served()
    calls = {"n": 0}
    original = client_mod.RemoteAlgorithm._call

    def restarting_call(self, request):
        calls["n"] += 1
        if calls["n"] == 2:
            assert any(s.name == "current_s" for s in request.experiment.spec.algorithm.algorithm_settings)
            server.restart(after=0.5)
        return original(self, request)

    local = _simulate(capsys, path, *opts)
    client_mod.RemoteAlgorithm._call = restarting_call
    try:
        remote = _simulate(capsys, path, *opts, "--suggestion-service", server.address)
    finally:
        client_mod.RemoteAlgorithm._call = original
    assert calls["n"] >= 2
    assert local[0] == 0, local[2]
    assert remote[0] == 0, remote[2]
    assert remote[1] == local[1]
