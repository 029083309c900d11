"""e2e on a real kind cluster (context kind-katibsim): Job and TFJob trials, a whole Experiment, Katib mode.

NOT run on this project's CI machines (no container engine, no kind): every ``kind`` test skips
there with its reason. ``make e2e`` runs them against a local cluster (``katibsim kind up
--image katibsim-trainer:0.1`` after ``docker build -t katibsim-trainer:0.1 examples/trainers``);
the ``e2e-kind`` workflow runs them on GitHub's runners.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import IMAGE, NAMESPACE, cluster_problem, require_cluster

from katibsim.backends.base import Outcome, TrialLaunch
from katibsim.k8s.manifests import run_selector

TRIAL_TIMEOUT = 300.0


def job_experiment(command: list[str], *, name: str = "e2e-job", collector: dict | None = None, **spec) -> dict:
    doc = {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": ["loss"]},
            "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "3"}]},
            "parallelTrialCount": 1, "maxTrialCount": 1, "maxFailedTrialCount": 1,
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}}],
            "trialTemplate": {
                "primaryContainerName": "training",
                "trialParameters": [{"name": "learningRate", "reference": "lr"}],
                "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {
                    "backoffLimit": 0,
                    "template": {"spec": {"restartPolicy": "Never", "containers": [{
                        "name": "training", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
                        "command": command + ["--lr=${trialParameters.learningRate}"]}]}}}},
            },
        },
    }
    if collector:
        doc["spec"]["metricsCollectorSpec"] = collector
    doc["spec"].update(spec)
    return doc


def tfjob_experiment(command: list[str], *, name: str = "e2e-tfjob", collector: dict | None = None) -> dict:
    doc = job_experiment(command, name=name, collector=collector)
    doc["spec"]["objective"] = {"type": "maximize", "objectiveMetricName": "accuracy_1"}
    tt = doc["spec"]["trialTemplate"]
    tt["primaryContainerName"] = "tensorflow"
    tt["trialSpec"] = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": {"tfReplicaSpecs": {"Worker": {
        "replicas": 1, "restartPolicy": "Never", "template": {"spec": {"containers": [{
            "name": "tensorflow", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
            "command": command + ["--lr=${trialParameters.learningRate}"]}]}}}}}}
    return doc


def py(code: str) -> list[str]:
    # sys.argv carries the --lr flag; the inline programs ignore it.
    return ["python", "-c", code]


def run_one(doc: dict, kube, shared_dir: str):
    from katibsim.backends.kind import KindBackend
    from katibsim.backends.base import RunContext
    from katibsim.engine.options import SimulationOptions
    from katibsim.spec.loader import experiment_from_dict

    exp = experiment_from_dict(copy.deepcopy(doc), file=f"{doc['metadata']['name']}.yaml")
    obj = exp.spec.objective
    names = (obj.objective_metric_name,) + tuple(obj.additional_metric_names)
    b = KindBackend(kube=kube, trial_timeout=TRIAL_TIMEOUT, shared_host_dir=shared_dir, handle_signals=False)
    b.open(RunContext(experiment=exp, options=SimulationOptions(), metric_names=names, maximize=True))
    try:
        b.start(TrialLaunch(name=f"{doc['metadata']['name']}-t1", index=0, assignment={"lr": 0.02},
                            parameter_assignments=(("lr", "0.02"),)))
        events = []
        while b.active:
            events.extend(b.wait(deadline=b.now() + TRIAL_TIMEOUT + 30))
    finally:
        b.close()
    return b, events


def assert_nothing_left(kube, b) -> None:
    from katibsim.k8s.client import POD

    assert kube.inner.list(POD, NAMESPACE, run_selector(b.run_id))[0] == []
    assert kube.inner.list(b._res, NAMESPACE, run_selector(b.run_id))[0] == []


def test_cluster_available():
    """Not marked `kind`: `make test` shows here why the e2e suite cannot run on this machine."""
    require_cluster()


@pytest.mark.kind
def test_job_trial_succeeds(kube, shared_dir):
    require_cluster()
    b, [ev] = run_one(job_experiment(py("print('accuracy=0.93'); print('loss=0.2')")), kube, shared_dir)
    assert ev.outcome == Outcome.SUCCEEDED, ev.message
    assert ev.reports["accuracy"] == ((1, 0.93),) and ev.reports["loss"] == ((1, 0.2),)
    assert_nothing_left(kube, b)


@pytest.mark.kind
def test_job_trial_fails(kube, shared_dir):
    require_cluster()
    b, [ev] = run_one(job_experiment(py("import sys; print('accuracy=0.1'); sys.exit(3)"), name="e2e-fail"),
                      kube, shared_dir)
    assert ev.outcome == Outcome.FAILED and ev.reason  # the Job's Failed condition (BackoffLimitExceeded)
    assert "exited with code 3" in ev.message
    assert_nothing_left(kube, b)  # the pods went with the Job (propagation policy)


@pytest.mark.kind
def test_tfjob_trial_metrics_from_its_log(kube, shared_dir):
    require_cluster("tfjob")
    b, [ev] = run_one(tfjob_experiment(py("print('accuracy_1=0.9')")), kube, shared_dir)
    assert ev.outcome == Outcome.SUCCEEDED, ev.message
    assert ev.reports["accuracy_1"] == ((1, 0.9),)
    assert_nothing_left(kube, b)


@pytest.mark.kind
def test_tfjob_trial_writing_event_files(kube, shared_dir):
    require_cluster("tfjob")
    if not Path(shared_dir).is_dir():
        pytest.skip(f"{shared_dir} (the folder kind-config.yaml shares with the node) does not exist")
    code = ("from tensorboardX import SummaryWriter\n"
            "w = SummaryWriter('/train/metrics')\n"
            "[w.add_scalar('accuracy_1', v, i + 1) for i, v in enumerate([0.5, 0.75])]\n"
            "w.close()")
    collector = {"source": {"fileSystemPath": {"path": "/train", "kind": "Directory"}},
                 "collector": {"kind": "TensorFlowEvent"}}
    b, [ev] = run_one(tfjob_experiment(py(code), name="e2e-events", collector=collector), kube, shared_dir)
    assert ev.outcome == Outcome.SUCCEEDED, ev.message
    assert [s for s, _ in ev.reports["accuracy_1"]] == [1, 2]
    assert [round(v, 3) for _, v in ev.reports["accuracy_1"]] == [0.5, 0.75]
    assert_nothing_left(kube, b)


@pytest.mark.kind
def test_a_small_experiment_through_katibsim(kube, shared_dir):
    require_cluster()
    from katibsim.backends.execute import execute
    from katibsim.backends.kind import KindBackend
    from katibsim.spec.loader import experiment_from_dict

    doc = job_experiment(["python", "/var/tf_mnist/mnist_with_summaries.py", "--epochs=2", "--batch_size=100"],
                         name="e2e-exp", maxTrialCount=2, parallelTrialCount=1)
    doc["spec"]["objective"] = {"type": "maximize", "objectiveMetricName": "accuracy_1", "additionalMetricNames": ["loss"]}
    tmpl = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    tmpl["command"][-1] = "--learning_rate=${trialParameters.learningRate}"
    exp = experiment_from_dict(doc, file="e2e-exp.yaml")
    backend = KindBackend(kube=kube, trial_timeout=TRIAL_TIMEOUT, shared_host_dir=shared_dir, handle_signals=False)
    result = execute(exp, backend, seed=1)
    assert result.backend == "kind"
    assert [t.condition for t in result.trials] == ["Succeeded", "Succeeded"], [t.message for t in result.trials]
    assert result.reason == "ExperimentMaxTrialsReached"
    assert result.status.current_optimal_trial is not None and 0 < result.best_value <= 1
    assert_nothing_left(kube, backend)


@pytest.mark.kind
@pytest.mark.katib
def test_katib_mode_on_a_two_trial_experiment(kube, tmp_path):
    require_cluster("katib")
    from katibsim.k8s.katib_mode import run_katib
    from katibsim.spec.loader import experiment_from_dict

    doc = job_experiment(["python", "/var/tf_mnist/mnist_with_summaries.py", "--epochs=2"], name="e2e-katib",
                         maxTrialCount=2, parallelTrialCount=1, maxFailedTrialCount=0)
    doc["spec"]["objective"] = {"type": "maximize", "objectiveMetricName": "accuracy_1"}
    tmpl = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    tmpl["command"][-1] = "--learning_rate=${trialParameters.learningRate}"
    exp = experiment_from_dict(doc, file="e2e-katib.yaml")
    result = run_katib(exp, kube, timeout=1800, poll=10)
    assert result.backend == "katib" and result.outcome == "Succeeded", result.reason
    assert len(result.trials) == 2 and all(t.condition == "Succeeded" for t in result.trials)
    opt = result.status.current_optimal_trial
    assert opt is not None and any(m.name == "accuracy_1" for m in opt.metrics)  # the shape Katib reports
    (tmp_path / "katib.json").write_text(__import__("json").dumps(result.to_dict()))


def test_skip_reasons_are_precise(monkeypatch, tmp_path):
    """The reasons themselves (always runs: no cluster needed)."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    cluster_problem.cache_clear()
    try:
        assert cluster_problem().startswith("kubeconfig context 'kind-katibsim' not found")
    finally:
        cluster_problem.cache_clear()
