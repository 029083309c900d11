"""`katibsim run EXPERIMENT --backend kind`: what it says with no cluster, and a whole run on the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import JOB_EXPERIMENT, TFJOB_EXPERIMENT
from fake_apiserver import Trainer, job_script

from katibsim.cli import main


def write(tmp_path: Path, doc: dict, name: str = "exp.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture
def kind_env(monkeypatch, tmp_path):
    monkeypatch.delenv("KATIBSIM_KUBE_CONTEXT", raising=False)
    monkeypatch.setenv("KATIBSIM_SHARED_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("KATIBSIM_POLL_INTERVAL", "0.05")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return monkeypatch


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_no_kubeconfig_says_what_is_missing(kind_env, tmp_path, capsys):
    kind_env.setenv("KUBECONFIG", str(tmp_path / "nope" / "config"))
    code, out, err = run_cli(["run", write(tmp_path, JOB_EXPERIMENT), "--backend", "kind", "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "no kubeconfig" in err and "katibsim kind up" in err
    assert "Traceback" not in err + out


def test_no_kind_katibsim_context_says_so(kind_env, tmp_path, capsys, fake):
    kind_env.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kc", context="kind-other")))
    code, out, err = run_cli(["run", write(tmp_path, JOB_EXPERIMENT), "--backend", "kind", "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "has no context 'kind-katibsim' (it has: kind-other)" in err
    assert "Traceback" not in err + out


def test_unreachable_api_server_says_so(kind_env, tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "kc"
    cfg.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-katibsim",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "kind-katibsim", "context": {"cluster": "c", "user": "u"}}]}))
    kind_env.setenv("KUBECONFIG", str(cfg))
    code, out, err = run_cli(["run", write(tmp_path, JOB_EXPERIMENT), "--backend", "kind", "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert f"127.0.0.1:{port} (context kind-katibsim) is unreachable: connection refused" in err
    assert "Traceback" not in err + out


def test_missing_tfjob_crd_says_how_to_install_it(kind_env, tmp_path, capsys, fake):
    fake.uninstall("kubeflow.org/v1")
    kind_env.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kc")))
    code, out, err = run_cli(["run", write(tmp_path, TFJOB_EXPERIMENT), "--backend", "kind", "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "CRD tfjobs.kubeflow.org is not installed" in err and "kubectl apply --server-side" in err
    assert "Traceback" not in err + out


def test_a_whole_experiment_on_the_fake_cluster(kind_env, tmp_path, capsys, fake):
    fake.scripts["Job"] = job_script(lambda job: Trainer(
        log=f"accuracy={0.5 + float(job['spec']['template']['spec']['containers'][0]['command'][-1].split('=')[1]):.4f}\nloss=0.1\n"))
    kind_env.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kc")))
    out_dir = tmp_path / "run"
    code, out, err = run_cli(["run", write(tmp_path, JOB_EXPERIMENT), "--backend", "kind", "--out", str(out_dir), "-q"], capsys)
    assert code == 0, err
    result = json.loads((out_dir / "result.json").read_text())
    assert result["backend"] == "kind"
    assert [t["condition"] for t in result["trials"]] == ["Succeeded"] * 4
    assert result["reason"] == "ExperimentMaxTrialsReached"
    assert result["max_concurrent"] == 2 and fake.max_live["jobs"] == 2
    best = result["status"]["current_optimal_trial"]
    values = {t["name"]: t["value"] for t in result["trials"]}
    assert best["name"] == max(values, key=values.get)
    assert fake.find("jobs") == [] and fake.find("pods") == []
    assert (out_dir / "trials" / result["trials"][0]["name"] / "pod.log").exists()


def test_the_kind_example_tunes_the_seed_experiment_on_the_fake(kind_env, tmp_path, capsys, fake):
    """examples/kind/tfjob-bayesian-kind.yaml as written: TFJob trials, event files in the shared folder."""
    from fake_apiserver import tfjob_script

    root = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((root / "examples/kind/tfjob-bayesian-kind.yaml").read_text())
    doc["spec"]["maxTrialCount"] = 3
    doc["spec"]["maxFailedTrialCount"] = 1
    doc["spec"]["algorithm"] = {"algorithmName": "random"}
    fake.host_dir = str(tmp_path / "shared")

    def trainer(tfjob):
        cmd = tfjob["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["command"]
        lr = float(next(c for c in cmd if c.startswith("--learning_rate=")).split("=")[1])
        return Trainer(events=[(1, 0.5), (2, 0.9 - lr)], event_subdir="metrics/test")

    fake.scripts["TFJob"] = tfjob_script(trainer)
    kind_env.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kc")))
    code, out, err = run_cli(["run", write(tmp_path, doc), "--backend", "kind", "--out", str(tmp_path / "run"), "-q"], capsys)
    assert code == 0, err
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert [t["condition"] for t in result["trials"]] == ["Succeeded"] * 3
    for t in result["trials"]:
        lr = float(dict((a["name"], a["value"]) for a in t["assignment"])["--learning_rate"])
        assert t["value"] == pytest.approx(0.9 - lr, abs=1e-6)  # float32 in the event file
    assert fake.find("tfjobs") == [] and fake.find("pods") == []


def test_factory_options_of_real_backends(kind_env):
    from katibsim import plugins
    from katibsim.errors import InputError

    entry = plugins.get_backend("kind")
    b = entry.factory(out_dir="x", timeout=12, resume=True, progress=None)
    assert b.options.trial_timeout == 12.0 and b.name == "kind" and not b.simulated
    with pytest.raises(InputError, match="--map"):
        entry.factory(mapping=["a=b"])
