"""The kind backend's orchestration against FakeKubeAPIServer (the real kubernetes client over HTTP).

Scripted state changes (Job Active → Complete/Failed, TFJob Succeeded, pod logs, event files in
the shared folder) and injected faults (a pod that fails, HTTP 500s, a lost create answer and a
409, a foreign 409, 410 Gone on watch, a slow API, 403, a CRD that is not installed,
ImagePullBackOff, an unreachable server, no kubeconfig or context, Ctrl-C).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import JOB_EXPERIMENT, TFJOB_EXPERIMENT, context_for, experiment
from fake_apiserver import Fault, Trainer, job_script, tfjob_script

from katibsim.backends.base import Outcome, TrialLaunch
from katibsim.backends.kind import KindBackend
from katibsim.early_stopping import Comparison, Rule
from katibsim.k8s.client import RetryPolicy
from katibsim.k8s.errors import (
    AlreadyExists,
    ApiTimeout,
    ApiUnreachable,
    CrdMissing,
    Forbidden,
    ImagePullError,
    KubeConfigError,
    NamespaceMissing,
)

FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05, deadline=5.0, request_timeout=(1.0, 1.0))


def backend(kubeconfig: Path, shared: Path, **kw) -> KindBackend:
    opts = dict(context="kind-katibsim", kubeconfig=str(kubeconfig), shared_host_dir=str(shared),
                poll_interval=0.05, poll_max=0.2, watch=False, image_pull_grace=0.0, cleanup_timeout=5.0,
                handle_signals=False, retry=FAST, trial_timeout=None, keep=False, namespace=None)
    opts.update(kw)
    return KindBackend(**opts)


def launch(name: str, lr: str = "0.05", index: int = 0, rules=()) -> TrialLaunch:
    return TrialLaunch(name=name, index=index, assignment={"lr": float(lr)}, parameter_assignments=(("lr", lr),),
                       rules=tuple(rules))


def run_all(b: KindBackend, limit: float = 10.0) -> list:
    events = []
    while b.active:
        got = b.wait(deadline=b.now() + limit)
        assert got, "the fake cluster never finished the trial(s)"
        events.extend(got)
    return events


def left_on_cluster(fake, run_id: str) -> list[str]:
    sel = f"katibsim/run={run_id}"
    return [o["metadata"]["name"] for plural in ("jobs", "tfjobs", "pods") for o in fake.find(plural, None, sel)]


# -- happy paths ----------------------------------------------------------------------------------------


def test_job_trial_succeeds_with_metrics_from_its_log_and_leaves_nothing(fake, kubeconfig, shared, tmp_path):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="epoch 1\naccuracy=0.81\nloss=0.5\naccuracy=0.9\nloss=0.3\n"))
    exp = experiment(JOB_EXPERIMENT)
    b = backend(kubeconfig, shared)
    b.open(context_for(exp, output_dir=str(tmp_path / "out")))
    b.start(launch("job-exp-abc12345"))
    created = fake.get_obj("batch/v1", "jobs", "default", "job-exp-abc12345")
    labels = created["metadata"]["labels"]
    assert labels["katib.kubeflow.org/experiment"] == "job-exp"
    assert labels["katib.kubeflow.org/trial"] == "job-exp-abc12345"
    assert labels["katibsim/run"] == b.run_id
    assert "--lr=0.05" in created["spec"]["template"]["spec"]["containers"][0]["command"]
    [ev] = run_all(b)
    b.close()
    assert ev.outcome == Outcome.SUCCEEDED
    assert ev.reports["accuracy"] == ((1, 0.81), (2, 0.9))
    assert ev.reports["loss"] == ((1, 0.5), (2, 0.3))
    assert ev.reason == "CompletionsReached" and ev.started is not None
    # Deleted with a propagation policy, so its pods went too; nothing of the run is left.
    assert ("jobs", "job-exp-abc12345", "Background") in fake.deletes
    assert left_on_cluster(fake, b.run_id) == []
    assert (tmp_path / "out" / "trials" / "job-exp-abc12345" / "pod.log").read_text().startswith("epoch 1")


def test_a_pod_that_fails_makes_a_failed_trial_with_the_exit_code(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="accuracy=0.2\nTraceback: boom\n", exit_code=3))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-fail0001"))
    [ev] = run_all(b)
    b.close()
    assert ev.outcome == Outcome.FAILED
    assert ev.reason == "BackoffLimitExceeded"  # the Failed condition, not the interim FailureTarget
    assert "exited with code 3" in ev.message
    assert ev.reports["accuracy"] == ((1, 0.2),)  # what the collector saw before the crash
    assert left_on_cluster(fake, b.run_id) == []


def test_a_job_that_succeeds_without_the_objective_is_metrics_unavailable_material(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="nothing to see\n"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-nometric"))
    [ev] = run_all(b)
    b.close()
    # Katib's collector reports "unavailable" for the objective; the controller makes it MetricsUnavailable.
    assert ev.outcome == Outcome.SUCCEEDED
    assert ev.reports["accuracy"][-1][1] == "unavailable"


def test_tfjob_trial_metrics_from_the_worker_0_log(fake, kubeconfig, shared):
    fake.scripts["TFJob"] = tfjob_script(lambda j: Trainer(log="accuracy_1=0.91\naccuracy_1=0.95\n"))
    exp = experiment(TFJOB_EXPERIMENT, metricsCollectorSpec={"collector": {"kind": "StdOut"}})
    b = backend(kubeconfig, shared)
    b.open(context_for(exp))
    b.start(launch("tfjob-exp-x1"))
    [ev] = run_all(b)
    b.close()
    assert ev.outcome == Outcome.SUCCEEDED and ev.reason == "TFJobSucceeded"
    assert [v for _, v in ev.reports["accuracy_1"]] == [0.91, 0.95]
    assert left_on_cluster(fake, b.run_id) == []


def test_tfjob_event_files_are_read_from_the_folder_shared_with_the_node(fake, kubeconfig, shared):
    fake.scripts["TFJob"] = tfjob_script(lambda j: Trainer(events=[(1, 0.5), (2, 0.75), (3, 0.875)],
                                                          event_subdir="metrics"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(TFJOB_EXPERIMENT)))
    b.start(launch("tfjob-exp-ev"))
    created = fake.get_obj("kubeflow.org/v1", "tfjobs", "kubeflow", "tfjob-exp-ev")
    pod = created["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]
    assert pod["volumes"][-1]["hostPath"] == {"path": f"/katibsim-shared/{b.run_id}/tfjob-exp-ev",
                                              "type": "DirectoryOrCreate"}
    assert pod["containers"][0]["volumeMounts"][-1]["mountPath"] == "/train"
    [ev] = run_all(b)
    assert [(s, round(v, 3)) for s, v in ev.reports["accuracy_1"]] == [(1, 0.5), (2, 0.75), (3, 0.875)]
    assert (shared / b.run_id).exists()
    b.close()
    assert not (shared / b.run_id).exists()  # the run's files go with it


def test_parallel_trials_run_at_once(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="accuracy=0.5\n", duration=0.3))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-p1"))
    b.start(launch("job-exp-p2", index=1))
    assert b.active == 2 and len(fake.find("jobs")) == 2
    events = run_all(b)
    b.close()
    assert sorted(e.name for e in events) == ["job-exp-p1", "job-exp-p2"]
    assert fake.max_live["jobs"] == 2


# -- faults -------------------------------------------------------------------------------------------------


def test_http_500s_are_retried(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="accuracy=0.7\n"))
    fake.inject(Fault("GET", r"/apis/batch/v1/namespaces/default/jobs$", status=500, count=2))
    fake.inject(Fault("POST", r"/jobs$", status=503, count=1, reason="ServiceUnavailable"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-r500"))
    [ev] = run_all(b)
    assert ev.outcome == Outcome.SUCCEEDED
    assert b.kube.stats.retries >= 3
    b.close()


def test_a_lost_create_answer_then_409_is_our_own_object(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="accuracy=0.7\n"))
    fake.inject(Fault("POST", r"/jobs$", status=500, after_commit=True))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-409a"))  # 500 (but created) -> retry -> 409 -> read back: ours
    assert b.kube.stats.conflicts_resolved == 1
    [ev] = run_all(b)
    assert ev.outcome == Outcome.SUCCEEDED
    b.close()


def test_a_409_on_someone_elses_object_is_a_clear_error(fake, kubeconfig, shared):
    fake.put("batch/v1", "jobs", {"apiVersion": "batch/v1", "kind": "Job",
                                  "metadata": {"name": "job-exp-taken", "namespace": "default", "labels": {}},
                                  "spec": {}})
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    with pytest.raises(AlreadyExists, match="already exists and was not created by this run"):
        b.start(launch("job-exp-taken"))
    b.close()
    assert fake.get_obj("batch/v1", "jobs", "default", "job-exp-taken") is not None  # not ours: untouched


def test_410_gone_on_watch_falls_back_to_listing(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="accuracy=0.6\n", duration=1.2))
    fake.gone_on_next_watches(2)
    b = backend(kubeconfig, shared, watch=True, poll_interval=1.0, poll_max=1.0)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-w410"))
    [ev] = run_all(b)
    b.close()
    assert ev.outcome == Outcome.SUCCEEDED
    assert b.kube.stats.watch_gone >= 1
    assert any("watch=true" in path for _, path in fake.requests)


def test_a_watch_wakes_the_backend_before_the_poll_interval(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(log="accuracy=0.6\n", duration=0.1))
    # The poll would come after 10 minutes and wait() gives up after one: an event at all means the
    # watch woke the backend. No wall-clock bound tighter than that (a loaded runner is slow).
    b = backend(kubeconfig, shared, watch=True, poll_interval=600.0, poll_max=600.0)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-wake"))
    [ev] = run_all(b, limit=60.0)
    b.close()
    assert ev.outcome == Outcome.SUCCEEDED


def test_a_slow_api_hits_the_deadline_with_a_clear_error(fake, kubeconfig, shared):
    b = backend(kubeconfig, shared, retry=RetryPolicy(attempts=2, base=0.01, cap=0.01, deadline=3,
                                                      request_timeout=(1.0, 0.3)))
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    fake.inject(Fault("POST", r"/jobs$", status=0, count=5, delay=0.8))
    with pytest.raises(ApiTimeout, match="no answer from the API server"):
        b.start(launch("job-exp-slow"))
    b.close()


def test_403_names_the_missing_rbac_rule(fake, kubeconfig, shared):
    fake.forbidden.add(("create", "jobs"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    with pytest.raises(Forbidden) as err:
        b.start(launch("job-exp-403"))
    b.close()
    msg = str(err.value)
    assert 'apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"]' in msg
    assert "namespace default" in msg and "cannot create resource" in msg


def test_a_missing_crd_is_reported_before_any_trial_with_how_to_install_it(fake, kubeconfig, shared):
    fake.uninstall("kubeflow.org/v1", "tfjobs")
    b = backend(kubeconfig, shared)
    with pytest.raises(CrdMissing) as err:
        b.open(context_for(experiment(TFJOB_EXPERIMENT)))
    b.close()
    assert "tfjobs.kubeflow.org is not installed" in str(err.value)
    assert "training" in str(err.value) or "trainer" in str(err.value)
    assert not any(m == "POST" for m, _ in fake.requests)


def test_a_missing_namespace_is_reported(fake, kubeconfig, shared):
    b = backend(kubeconfig, shared, namespace="nowhere")
    with pytest.raises(NamespaceMissing, match="kubectl create namespace nowhere"):
        b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.close()


def test_image_pull_backoff_stops_the_run_with_the_pods_words(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(image_pull="ImagePullBackOff"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-pull"))
    with pytest.raises(ImagePullError) as err:
        run_all(b)
    b.close()
    msg = str(err.value)
    assert "cannot pull image 'katibsim-trainer:0.1'" in msg and "ImagePullBackOff" in msg
    assert "kind load docker-image katibsim-trainer:0.1 --name katibsim" in msg
    assert left_on_cluster(fake, b.run_id) == []


def test_an_unreachable_api_server(tmp_path, shared):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(
        '{"apiVersion": "v1", "kind": "Config", "current-context": "kind-katibsim",'
        f' "clusters": [{{"name": "k", "cluster": {{"server": "http://127.0.0.1:{port}"}}}}],'
        ' "users": [{"name": "u", "user": {"token": "t"}}],'
        ' "contexts": [{"name": "kind-katibsim", "context": {"cluster": "k", "user": "u"}}]}')
    b = backend(cfg, shared)
    with pytest.raises(ApiUnreachable, match=rf"127.0.0.1:{port} \(context kind-katibsim\) is unreachable: connection refused"):
        b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.close()


def test_no_kubeconfig_and_no_context(tmp_path, shared, kubeconfig):
    b = backend(tmp_path / "missing", shared)
    with pytest.raises(KubeConfigError, match="no kubeconfig: .*missing does not exist.*katibsim kind up"):
        b.open(context_for(experiment(JOB_EXPERIMENT)))
    b = backend(kubeconfig, shared, context="kind-other")
    with pytest.raises(KubeConfigError, match="has no context 'kind-other' \\(it has: kind-katibsim\\)"):
        b.open(context_for(experiment(JOB_EXPERIMENT)))


def test_ctrl_c_during_wait_leaves_nothing_on_the_cluster(fake, kubeconfig, shared, monkeypatch):
    fake.scripts["Job"] = job_script(lambda job: Trainer(hangs=True))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-c1"))
    b.start(launch("job-exp-c2", index=1))
    calls = {"n": 0}
    real = b._idle

    def interrupted(seconds):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(seconds)

    monkeypatch.setattr(b, "_idle", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with b:
            b.wait(deadline=b.now() + 10)
    assert len(fake.find("pods", None, f"katibsim/run={b.run_id}")) == 0
    assert left_on_cluster(fake, b.run_id) == []
    assert {d[2] for d in fake.deletes if d[0] == "jobs"} <= {"Foreground", "Background"}


def test_cleanup_removes_pods_orphaned_by_a_delete_without_propagation(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(hangs=True))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-orphan"))
    b.wait(deadline=b.now() + 0.3)
    # Someone deletes the Job the default API way (no propagation): its pod is orphaned.
    fake.remove(("batch/v1", "jobs", "default", "job-exp-orphan"))
    assert fake.find("pods", None, f"katibsim/run={b.run_id}")
    b.close()
    assert left_on_cluster(fake, b.run_id) == []


def test_trial_timeout_fails_the_trial_and_deletes_it(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(hangs=True))
    b = backend(kubeconfig, shared, trial_timeout=0.5)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-slowtrial"))
    [ev] = run_all(b)
    b.close()
    assert ev.outcome == Outcome.FAILED and ev.reason == "DeadlineExceeded"
    assert left_on_cluster(fake, b.run_id) == []


def test_early_stopping_rules_stop_a_running_trial_from_its_log(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(hangs=True, live_log="accuracy=0.1\naccuracy=0.15\n"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-es", rules=[Rule(metric="accuracy", value=0.5, comparison=Comparison.LESS, start_step=2)]))
    [ev] = run_all(b)
    b.close()
    assert ev.outcome == Outcome.EARLY_STOPPED and ev.stopped_at == 2
    assert left_on_cluster(fake, b.run_id) == []


def test_stop_kills_a_trial(fake, kubeconfig, shared):
    fake.scripts["Job"] = job_script(lambda job: Trainer(hangs=True, live_log="accuracy=0.3\n"))
    b = backend(kubeconfig, shared)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-kill"))
    b.wait(deadline=b.now() + 0.3)
    ev = b.stop("job-exp-kill", "no longer needed")
    assert ev.outcome == Outcome.KILLED and ev.reports["accuracy"] == ((1, 0.3),)
    assert b.stop("job-exp-kill") is None
    b.close()
    assert left_on_cluster(fake, b.run_id) == []


def test_a_signal_ends_the_wait_and_close_cleans_up(fake, kubeconfig, shared):
    import os
    import signal
    import threading

    fake.scripts["Job"] = job_script(lambda job: Trainer(hangs=True))
    before = signal.getsignal(signal.SIGTERM)
    b = backend(kubeconfig, shared, handle_signals=True)
    b.open(context_for(experiment(JOB_EXPERIMENT)))
    b.start(launch("job-exp-sig"))
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert b.wait(deadline=b.now() + 10) == []
    finally:
        timer.cancel()
    assert b.interrupted and "SIGTERM" in b.interrupted
    b.close()
    assert signal.getsignal(signal.SIGTERM) == before
    assert left_on_cluster(fake, b.run_id) == []
