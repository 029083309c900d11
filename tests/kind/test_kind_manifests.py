"""Trial manifests made ready for the cluster, and pod statuses read back (pure functions)."""

from __future__ import annotations

import copy

import pytest
from conftest import JOB_EXPERIMENT, TFJOB_EXPERIMENT, experiment

from katibsim.errors import InputError
from katibsim.k8s.manifests import (
    EXPERIMENT_LABEL,
    METRICS_VOLUME,
    POD_NAME_ENV,
    RUN_LABEL,
    TRIAL_LABEL,
    SharedFolder,
    collector_mount,
    prepare_trial,
)
from katibsim.k8s.status import image_pull_problem, pod_failure, primary_pods
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec
from katibsim.spec.templates import render_trial

SHARED = SharedFolder("/tmp/katibsim-shared", "/katibsim-shared")


def rendered(doc, name="t-1", **kw):
    exp = experiment(doc, **kw)
    return exp, render_trial(exp, name, {"lr": "0.05"})


def test_job_labels_namespace_and_no_mount_for_stdout():
    exp, manifest = rendered(JOB_EXPERIMENT)
    before = copy.deepcopy(manifest)
    p = prepare_trial(manifest, experiment="job-exp", trial="t-1", namespace="ns1", run_id="ks-1",
                      collector=MetricsCollectorSpec(kind="StdOut"), primary_container="training", shared=SHARED)
    assert manifest == before  # pure
    m = p.manifest
    assert m["metadata"]["namespace"] == "ns1" and m["metadata"]["name"] == "t-1"
    for labels in (m["metadata"]["labels"], m["spec"]["template"]["metadata"]["labels"]):
        assert labels[EXPERIMENT_LABEL] == "job-exp" and labels[TRIAL_LABEL] == "t-1" and labels[RUN_LABEL] == "ks-1"
        assert labels["app.kubernetes.io/managed-by"] == "katibsim"
    assert "volumes" not in m["spec"]["template"]["spec"]
    assert p.selector == {TRIAL_LABEL: "t-1", RUN_LABEL: "ks-1"} and p.host_dir is None
    assert p.warnings == ()


def test_tfjob_event_folder_is_mounted_per_pod_in_the_primary_container():
    exp, manifest = rendered(TFJOB_EXPERIMENT)
    p = prepare_trial(manifest, experiment="tfjob-exp", trial="t-1", namespace="kubeflow", run_id="ks-2",
                      collector=exp.spec.metrics_collector_spec, primary_container="tensorflow", shared=SHARED)
    pod = p.manifest["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]
    c = pod["containers"][0]
    assert {"name": METRICS_VOLUME, "mountPath": "/train", "subPathExpr": f"$({POD_NAME_ENV})"} in c["volumeMounts"]
    assert {"name": POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in c["env"]
    assert pod["volumes"] == [{"name": METRICS_VOLUME, "hostPath": {"path": "/katibsim-shared/ks-2/t-1",
                                                                     "type": "DirectoryOrCreate"}}]
    assert p.host_file("t-1-worker-0") == "/tmp/katibsim-shared/ks-2/t-1/t-1-worker-0"


def test_file_collector_mounts_the_files_folder():
    spec = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path="/var/log/katib/metrics.log", kind="File"))
    assert collector_mount(spec) == ("/var/log/katib", "/var/log/katib/metrics.log")
    exp, manifest = rendered(JOB_EXPERIMENT)
    p = prepare_trial(manifest, experiment="e", trial="t-1", namespace="d", run_id="r", collector=spec,
                      primary_container="training", shared=SHARED)
    assert p.host_file("pod-a") == "/tmp/katibsim-shared/r/t-1/pod-a/metrics.log"


@pytest.mark.parametrize("spec, msg", [
    (MetricsCollectorSpec(kind="Push"), "cannot be collected by the kind backend"),
    (MetricsCollectorSpec(kind="PrometheusMetric"), "cannot be collected"),
    (MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path="/metrics.log", kind="File")), "root"),
])
def test_collectors_the_backend_cannot_read_are_refused(spec, msg):
    with pytest.raises(InputError, match=msg):
        collector_mount(spec)


def test_an_event_collector_needs_the_shared_folder_and_the_primary_container():
    exp, manifest = rendered(TFJOB_EXPERIMENT)
    with pytest.raises(InputError, match="folder shared with the kind node"):
        prepare_trial(manifest, experiment="e", trial="t", namespace="n", run_id="r",
                      collector=exp.spec.metrics_collector_spec, primary_container="tensorflow", shared=None)
    with pytest.raises(InputError, match="no container named 'pytorch'"):
        prepare_trial(manifest, experiment="e", trial="t", namespace="n", run_id="r",
                      collector=exp.spec.metrics_collector_spec, primary_container="pytorch", shared=SHARED)


def test_warnings_for_latest_images_ttl_and_pod_cleanup():
    exp, manifest = rendered(JOB_EXPERIMENT)
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "katibsim-trainer:latest"
    manifest["spec"]["ttlSecondsAfterFinished"] = 0
    p = prepare_trial(manifest, experiment="e", trial="t", namespace="n", run_id="r",
                      collector=MetricsCollectorSpec(), primary_container="training", shared=SHARED)
    assert any(":latest" in w and "IfNotPresent" in w for w in p.warnings)
    assert any("ttlSecondsAfterFinished" in w for w in p.warnings)
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    p = prepare_trial(manifest, experiment="e", trial="t", namespace="n", run_id="r",
                      collector=MetricsCollectorSpec(), primary_container="training", shared=SHARED)
    assert not any(":latest" in w for w in p.warnings)
    exp, tf = rendered(TFJOB_EXPERIMENT)
    tf["spec"]["runPolicy"] = {"cleanPodPolicy": "All"}
    p = prepare_trial(tf, experiment="e", trial="t", namespace="n", run_id="r",
                      collector=MetricsCollectorSpec(), primary_container="tensorflow", shared=SHARED)
    assert any("cleanPodPolicy" in w for w in p.warnings)


def test_an_existing_mount_at_the_collector_path_is_replaced_with_a_warning():
    exp, manifest = rendered(TFJOB_EXPERIMENT)
    pod = manifest["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]
    pod["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/train/"}]
    pod["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    p = prepare_trial(manifest, experiment="e", trial="t", namespace="n", run_id="r",
                      collector=exp.spec.metrics_collector_spec, primary_container="tensorflow", shared=SHARED)
    mounts = p.manifest["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert [m["name"] for m in mounts] == [METRICS_VOLUME]
    assert any("'scratch'" in w for w in p.warnings)


# -- pods ------------------------------------------------------------------------------------------------------

pod_image_pull_backoff_from_types = {
    "metadata": {"name": "t-1-abcde", "labels": {"job-name": "t-1"}},
    "status": {"phase": "Pending", "containerStatuses": [{
        "name": "training", "image": "katibsim-trainer:0.1", "ready": False, "restartCount": 0,
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "katibsim-trainer:0.1"'}}}]},
}
pod_failed_from_types = {
    "metadata": {"name": "t-1-fghij"},
    "status": {"phase": "Failed", "containerStatuses": [{
        "name": "training", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "message": "out of memory\n"}}}]},
}


def test_image_pull_problem_and_pod_failure():
    p = image_pull_problem(pod_image_pull_backoff_from_types)
    assert (p.pod, p.container, p.image, p.reason) == ("t-1-abcde", "training", "katibsim-trainer:0.1", "ImagePullBackOff")
    assert image_pull_problem(pod_failed_from_types) is None
    assert pod_failure(pod_failed_from_types) == "container training exited with code 137 (OOMKilled): out of memory"
    assert pod_failure({"status": {"phase": "Failed", "reason": "Evicted", "message": "low on disk"}}) == "pod Evicted: low on disk"


def test_primary_pods_by_labels_oldest_first():
    pods = [
        {"metadata": {"name": "w1", "creationTimestamp": "2026-01-01T00:00:02Z",
                      "labels": {"training.kubeflow.org/job-role": "worker"}}},
        {"metadata": {"name": "w0", "creationTimestamp": "2026-01-01T00:00:01Z",
                      "labels": {"training.kubeflow.org/job-role": "master"}}},
        {"metadata": {"name": "retry", "creationTimestamp": "2026-01-01T00:00:03Z",
                      "labels": {"training.kubeflow.org/job-role": "master"}}},
    ]
    assert [p["metadata"]["name"] for p in primary_pods(pods, {"training.kubeflow.org/job-role": "master"})] == ["w0", "retry"]
    assert len(primary_pods(pods, {})) == 3
