"""`katibsim kind up|down|status|katib`, Katib mode on the fake, the workflow file, the Makefile target."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import JOB_EXPERIMENT
from fake_apiserver import katib_script

from katibsim.cli import main
from katibsim.k8s.client import KubeClient, RetryPolicy
from katibsim.k8s.errors import CrdMissing
from katibsim.k8s.katib_mode import experiment_object, result_from_objects, run_katib, trial_condition
from katibsim.spec.loader import experiment_from_dict

ROOT = Path(__file__).resolve().parents[2]


def test_up_dry_run_prints_every_step_in_order(capsys):
    assert main(["kind", "up", "--dry-run", "--katib", "--image", "katibsim-trainer:0.1"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("+ ")]
    assert lines[1].startswith("+ kind create cluster --config ") and lines[1].endswith("--name katibsim --wait 120s")
    assert "kind-config.yaml" in lines[1]
    assert any("apply --server-side -k 'github.com/kubeflow/trainer.git/manifests/overlays/standalone?ref=v1.9.4'" in x
               for x in lines)
    assert any("katib-standalone?ref=v0.19.0" in x for x in lines)
    assert any("rollout status deploy/katib-controller" in x for x in lines)
    assert lines[-1] == "+ kind load docker-image katibsim-trainer:0.1 --name katibsim"
    operator = next(i for i, x in enumerate(lines) if "trainer.git" in x)
    katib = next(i for i, x in enumerate(lines) if "katib-standalone" in x)
    assert operator < katib  # katib-controller only watches kinds whose CRDs exist when it starts


@pytest.mark.parametrize("missing, argv", [
    ("docker", ["kind", "up"]), ("kind", ["kind", "up"]), ("kubectl", ["kind", "up"]), ("kind", ["kind", "down"]),
])
def test_a_missing_tool_is_named(missing, argv, monkeypatch, capsys):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool, *a, **k: None if tool == missing else (real(tool) or f"/usr/bin/{tool}"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"`{missing}` is not installed" in err and "Traceback" not in err


def test_status_on_the_fake_cluster(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kc")))
    fake.uninstall("kubeflow.org/v1beta1")
    assert main(["kind", "status"]) == 0
    out = capsys.readouterr().out
    assert "Kubernetes v1.35.0-fake" in out and "Job (batch/v1): served as jobs" in out
    assert "TFJob (kubeflow.org/v1): served as tfjobs" in out
    assert "experiments.kubeflow.org is not installed" in out


def test_status_without_a_cluster_fails_with_the_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert main(["kind", "status"]) == 1
    assert "no kubeconfig" in capsys.readouterr().out


# -- Katib mode -------------------------------------------------------------------------------------------------


def two_trial_experiment():
    import copy

    doc = copy.deepcopy(JOB_EXPERIMENT)
    doc["spec"].update(maxTrialCount=2, parallelTrialCount=1, maxFailedTrialCount=1)
    return doc


def test_katib_mode_records_katibs_outcome_in_the_run_result_format(fake, kubeconfig):
    fake.scripts["Experiment"] = katib_script([0.8, 0.9])
    exp = experiment_from_dict(two_trial_experiment(), file="exp.yaml")
    kube = KubeClient.from_kubeconfig(config_file=str(kubeconfig), retry=RetryPolicy(base=0.01))
    result = run_katib(exp, kube, poll=0.05, sleep=__import__("time").sleep)
    assert result.backend == "katib" and result.outcome == "Succeeded" and result.reason == "ExperimentMaxTrialsReached"
    assert [t.condition for t in result.trials] == ["Succeeded", "Succeeded"]
    assert [t.value for t in result.trials] == [0.8, 0.9]
    assert result.status.current_optimal_trial.name == "job-exp-t1"
    assert result.best_value == 0.9 and result.status.counts.succeeded == 2
    assert result.suggestion.suggestion_count == 2
    again = type(result).from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    # Deleted with Foreground propagation: trials and suggestion went with it.
    assert ("experiments", "job-exp", "Foreground") in fake.deletes
    assert fake.find("experiments") == [] and fake.find("trials") == [] and fake.find("suggestions") == []
    created = next(p for m, p in fake.requests if m == "POST")
    assert created.endswith("/apis/kubeflow.org/v1beta1/namespaces/default/experiments")


def test_katib_mode_without_katib_says_so(fake, kubeconfig):
    fake.uninstall("kubeflow.org/v1beta1")
    exp = experiment_from_dict(two_trial_experiment(), file="exp.yaml")
    kube = KubeClient.from_kubeconfig(config_file=str(kubeconfig))
    with pytest.raises(CrdMissing, match="Katib is not installed.*katib-standalone"):
        run_katib(exp, kube)


def test_katib_command_writes_the_result(fake, tmp_path, monkeypatch, capsys):
    fake.scripts["Experiment"] = katib_script([0.3, 0.7])
    monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kc")))
    exp_file = tmp_path / "exp.yaml"
    exp_file.write_text(yaml.safe_dump(two_trial_experiment()))
    assert main(["kind", "katib", str(exp_file), "--result", str(tmp_path / "katib.json")]) == 0
    out = capsys.readouterr().out
    assert "Experiment job-exp: Succeeded (ExperimentMaxTrialsReached)" in out and "best trial: job-exp-t1" in out
    data = json.loads((tmp_path / "katib.json").read_text())
    assert data["backend"] == "katib" and len(data["trials"]) == 2


def test_experiment_object_drops_server_fields_and_labels_the_owner():
    doc = two_trial_experiment()
    doc["metadata"].update(uid="u", resourceVersion="5", creationTimestamp="2026-01-01T00:00:00Z")
    obj = experiment_object(experiment_from_dict(doc), "ks-1", namespace="other")
    meta = obj["metadata"]
    assert "uid" not in meta and "resourceVersion" not in meta and "creationTimestamp" not in meta
    assert meta["namespace"] == "other" and meta["labels"]["katibsim/run"] == "ks-1"
    assert obj["spec"]["parallelTrialCount"] == 1


def test_trial_buckets_from_katib_conditions():
    def trial(*conds):
        return {"status": {"conditions": [{"type": t, "status": s, "reason": r} for t, s, r in conds]}}

    assert trial_condition(trial(("Created", "True", "TrialCreated")))[0] == "Pending"
    assert trial_condition(trial(("Running", "True", "TrialRunning")))[0] == "Running"
    # EarlyStopped keeps Running True; with no observation it also gets MetricsUnavailable (§3.9).
    assert trial_condition(trial(("Running", "True", ""), ("EarlyStopped", "True", "TrialEarlyStopped")))[0] == "EarlyStopped"
    assert trial_condition(trial(("Running", "True", ""), ("EarlyStopped", "True", ""),
                                 ("MetricsUnavailable", "True", "")))[0] == "EarlyStopped"
    assert trial_condition(trial(("Running", "False", ""), ("Failed", "True", "TrialFailed")))[1] == "TrialFailed"


def test_result_of_an_experiment_still_running():
    exp = experiment_from_dict(two_trial_experiment())
    obj = {"metadata": {"name": "job-exp", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "status": {"conditions": [{"type": "Running", "status": "True", "reason": "ExperimentRunning",
                                      "lastTransitionTime": "2026-01-01T00:00:05Z"}]}}
    trial = {"metadata": {"name": "job-exp-a", "creationTimestamp": "2026-01-01T00:00:06Z"},
             "spec": {"parameterAssignments": [{"name": "lr", "value": "0.05"}]},
             "status": {"startTime": "2026-01-01T00:00:07Z",
                        "conditions": [{"type": "Running", "status": "True", "reason": "TrialRunning"}]}}
    r = result_from_objects(exp, obj, [trial], None)
    assert r.outcome == "Running" and r.trials[0].condition == "Running" and r.trials[0].started == 7.0
    assert r.trials[0].assignment == (("lr", "0.05"),) and r.max_concurrent == 1


# -- the CI workflow and the Makefile target ---------------------------------------------------------------------


def test_e2e_workflow_is_valid_and_runs_make_e2e_on_kind():
    wf = yaml.safe_load((ROOT / ".github/workflows/e2e-kind.yaml").read_text())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"workflow_dispatch", "pull_request", "schedule"} <= set(triggers)
    jobs = wf["jobs"]
    assert set(jobs) >= {"e2e", "katib"}
    for name, job in jobs.items():
        assert job["runs-on"].startswith("ubuntu-") and job["timeout-minutes"] <= 90
        steps = job["steps"]
        assert all(("uses" in s) != ("run" in s) for s in steps), f"{name}: each step uses an action or runs a command"
        uses = [s["uses"] for s in steps if "uses" in s]
        assert any(u.startswith("actions/checkout@") for u in uses)
        kind = next(s for s in steps if s.get("uses", "").startswith("helm/kind-action@"))
        assert kind["with"]["cluster_name"] == "katibsim" and kind["with"]["config"] == "kind-config.yaml"
        runs = "\n".join(s.get("run", "") for s in steps)
        assert "make e2e" in runs and "mkdir -p /tmp/katibsim-shared" in runs
        assert "kind load docker-image" in runs
        upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
        assert upload["if"] == "always()" and "artifacts" in upload["with"]["path"]
        dump = next(s for s in steps if "kubectl get" in s.get("run", ""))
        assert dump.get("if") in ("always()", "failure()")
    assert "katib-standalone?ref=v0.19.0" in "\n".join(s.get("run", "") for s in jobs["katib"]["steps"])


def test_make_e2e_target_runs_the_kind_marked_tests():
    text = (ROOT / "Makefile").read_text()
    assert "\ne2e:" in text
    body = text.split("\ne2e:", 1)[1].split("\n\n", 1)[0]
    assert "E2E_ARGS ?= -m kind" in text and "tests/e2e" in body and "$(E2E_ARGS)" in body


def test_kind_config_shares_the_folder_with_the_node():
    cfg = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    assert cfg["kind"] == "Cluster" and cfg["apiVersion"] == "kind.x-k8s.io/v1alpha4" and cfg["name"] == "katibsim"
    [node] = cfg["nodes"]
    assert node["role"] == "control-plane"
    assert {"hostPath": "/tmp/katibsim-shared", "containerPath": "/katibsim-shared"} in node["extraMounts"]
