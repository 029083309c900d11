"""Image and path mapping: the local command of a trial, and the errors before any trial starts."""

from __future__ import annotations

import os
import sys

import pytest

from katibsim.backends.mapping import (
    LocalMap,
    LocalMapError,
    annotation_entries,
    expand_k8s,
    parse_entries,
    plan_command,
)
from katibsim.cli import main
from katibsim.errors import InputError
from katibsim.spec.loader import load_experiment
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec
from katibsim.spec.templates import primary_container, render_trial

from .conftest import FAKE, FAKE_IN_IMAGE, FAKE_MAP, ROOT, TRAINER, experiment_doc, write_experiment

SEED_CONTAINER = {
    "name": "tensorflow",
    "image": "gcr.io/kubeflow-ci/tf-mnist-with-summaries:1.0",
    "command": ["python", "/var/tf_mnist/mnist_with_summaries.py", "--log_dir=/train/metrics",
                "--learning_rate=0.0123", "--batch_size=157"],
}
TFEVENT = MetricsCollectorSpec(kind="TensorFlowEvent", file_system_path=FileSystemPath("/train", "Directory"))


def test_seed_command_maps_the_script_the_interpreter_and_the_collector_folder(tmp_path):
    m = LocalMap.build(None, [f"/var/tf_mnist/mnist_with_summaries.py={TRAINER}"])
    plan = plan_command(SEED_CONTAINER, trial_name="t-1", trial_dir=tmp_path / "t-1", local_map=m, collector=TFEVENT)
    assert plan.argv == (sys.executable, str(TRAINER), f"--log_dir={tmp_path}/t-1/train/metrics",
                         "--learning_rate=0.0123", "--batch_size=157")
    assert plan.collector_path == str(tmp_path / "t-1" / "train")
    assert plan.make_dirs == (str(tmp_path / "t-1" / "train"),)
    assert dict(plan.env) == {"KATIB_TRIAL_NAME": "t-1"}
    assert plan.cwd == str(tmp_path / "t-1")
    assert [s.where for s in plan.substitutions] == ["command[0]", "command[1]", "command[2]"]


def test_unmapped_path_that_does_not_exist_is_an_error_naming_the_fix(tmp_path):
    with pytest.raises(LocalMapError) as err:
        plan_command(SEED_CONTAINER, trial_name="t", trial_dir=tmp_path, local_map=LocalMap.build(), collector=TFEVENT)
    text = str(err.value)
    assert "command[1]: /var/tf_mnist/mnist_with_summaries.py does not exist on this machine" in text
    assert "--map /var/tf_mnist/mnist_with_summaries.py=LOCAL_PATH" in text
    assert "gcr.io/kubeflow-ci/tf-mnist-with-summaries:1.0" in text
    assert len(err.value.problems) == 1  # /train is the collector's folder: mapped, not an error


def test_every_problem_is_reported_at_once(tmp_path):
    container = {"name": "c", "image": "img", "command": ["no-such-command-xyz", "--data=/no/such/data", "/no/such/file"]}
    with pytest.raises(LocalMapError) as err:
        plan_command(container, trial_name="t", trial_dir=tmp_path, local_map=LocalMap.build())
    problems = err.value.problems
    assert any("args" in p or "command[1]: /no/such/data" in p for p in problems)
    assert any("command[2]: /no/such/file" in p for p in problems)


def test_a_command_not_on_path_is_an_error(tmp_path):
    container = {"name": "c", "image": "img", "command": ["no-such-command-xyz", "--flag"]}
    with pytest.raises(LocalMapError, match="command 'no-such-command-xyz' is not found on PATH; map it"):
        plan_command(container, trial_name="t", trial_dir=tmp_path, local_map=LocalMap.build())


def test_existing_paths_and_paths_in_existing_folders_are_kept(tmp_path):
    container = {"name": "c", "image": "img", "command": ["python", str(FAKE), f"--out={tmp_path}/new-file", "--x=1"]}
    plan = plan_command(container, trial_name="t", trial_dir=tmp_path / "t", local_map=LocalMap.build())
    assert plan.argv[1:] == (str(FAKE), f"--out={tmp_path}/new-file", "--x=1")


def test_image_mapping_is_the_entrypoint_when_the_container_has_no_command(tmp_path):
    container = {"name": "c", "image": "docker.io/acme/fake:2.1", "args": ["--x=0.5", "--trial=$(KATIB_TRIAL_NAME)", "$$(KEEP)"]}
    with pytest.raises(LocalMapError) as err:
        plan_command(container, trial_name="t", trial_dir=tmp_path, local_map=LocalMap.build())
    assert len(err.value.problems) == 1
    assert "has no command, so it would run the image's entrypoint" in err.value.problems[0]
    assert "--map docker.io/acme/fake:2.1='COMMAND ...'" in err.value.problems[0]
    # The repository without the tag matches too; the mapping's words are relative to its base.
    m = LocalMap.build(None, [f"docker.io/acme/fake=python {FAKE.relative_to(ROOT)}"], base=ROOT)
    plan = plan_command(container, trial_name="t-9", trial_dir=tmp_path, local_map=m)
    assert plan.argv == (sys.executable, str(FAKE), "--x=0.5", "--trial=t-9", "$(KEEP)")


def test_trial_directory_mapping_and_longest_prefix(tmp_path):
    m = LocalMap.build(None, ["/data=@trial", f"/data/special={tmp_path}"])
    container = {"name": "c", "image": "i", "command": ["python", str(FAKE), "--a=/data/x", "--b=/data/special/y", "/data"]}
    plan = plan_command(container, trial_name="t", trial_dir=tmp_path / "t", local_map=m)
    assert plan.argv[2:] == (f"--a={tmp_path}/t/data/x", f"--b={tmp_path}/y", f"{tmp_path}/t/data")


def test_paths_inside_a_shell_script_word_are_mapped(tmp_path):
    m = LocalMap.build(None, [f"/opt/fake={FAKE.parent}"])
    container = {"name": "c", "image": "i", "command": ["sh", "-c"],
                 "args": ["python3 /opt/fake/fake_trainer.py --x=1 > /train/log.txt"]}
    col = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath("/train/log.txt", "File"))
    plan = plan_command(container, trial_name="t", trial_dir=tmp_path / "t", local_map=m, collector=col)
    assert plan.argv[-1] == f"python3 {FAKE} --x=1 > {tmp_path}/t/train/log.txt"
    assert plan.collector_path == f"{tmp_path}/t/train/log.txt"


def test_a_mapping_to_a_missing_local_path_is_an_error(tmp_path):
    m = LocalMap.build(None, [f"/var/tf_mnist/mnist_with_summaries.py={tmp_path}/nope/train.py"])
    with pytest.raises(LocalMapError, match="is mapped .* which does not exist"):
        plan_command(SEED_CONTAINER, trial_name="t", trial_dir=tmp_path, local_map=m, collector=TFEVENT)


def test_k8s_expansion():
    env = {"A": "1", "KATIB_TRIAL_NAME": "t"}
    assert expand_k8s("$(A)-$(B)-$$(A)-$(KATIB_TRIAL_NAME)-$", env) == "1-$(B)-$(A)-t-$"


def test_parse_entries_rejects_what_is_not_a_mapping(tmp_path):
    assert [e.key for e in parse_entries(["# comment", "", " /a/ = b "], origin="x", base=tmp_path)] == ["/a"]
    with pytest.raises(InputError, match="is not a mapping"):
        parse_entries(["no-equals-sign"], origin="--map", base=tmp_path)


def test_annotation_values_are_relative_to_the_experiment_file():
    exp = load_experiment(ROOT / "examples" / "tfjob-bayesian-local.yaml")
    (entry,) = annotation_entries(exp)
    assert entry.key == "/var/tf_mnist/mnist_with_summaries.py"
    manifest = render_trial(exp, "t", {"--learning_rate": "0.02", "--batch_size": "120"})
    plan = plan_command(primary_container(manifest, exp), trial_name="t", trial_dir="/tmp/x/t",
                        local_map=LocalMap.build(exp), collector=exp.spec.metrics_collector_spec)
    assert plan.argv[1] == str(TRAINER)
    assert "--epochs=5" in plan.argv and "--log_dir=/tmp/x/t/train/metrics" in plan.argv


def test_cli_run_refuses_an_unmapped_path_before_any_trial(tmp_path, capsys):
    doc = experiment_doc("unmapped", parameters=[{"name": "--x", "parameterType": "double",
                                                  "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
                         command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], max_trials=1, parallel=1)
    path = write_experiment(tmp_path, doc)
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"command[1]: {FAKE_IN_IMAGE} does not exist on this machine" in err
    assert f"--map {FAKE_IN_IMAGE}=LOCAL_PATH" in err
    assert not out.exists()  # refused before any trial: no run folder to trip over next time


def test_cli_run_usage_errors(tmp_path, capsys):
    doc = experiment_doc("usage", parameters=[{"name": "--x", "parameterType": "double",
                                               "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
                         command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], max_trials=1, parallel=1)
    path = write_experiment(tmp_path, doc)
    assert main(["run", str(path), "--resume"]) == 2
    assert "--resume needs the interrupted run's folder" in capsys.readouterr().err
    assert main(["run", str(path), "--resume", "--out", str(tmp_path / "nothing")]) == 2
    assert "no run.json here" in capsys.readouterr().err
    assert main(["run", str(path), "--map", "oops", "--out", str(tmp_path / "a")]) == 2
    assert "'oops' is not a mapping" in capsys.readouterr().err
    assert main(["run", str(path), "--objective", "branin"]) == 2
    # A finished run cannot be started again in the same folder, and a changed one cannot resume.
    out = tmp_path / "done"
    assert main(["run", str(path), "--map", FAKE_MAP, "--out", str(out), "-q", "-o", "table"]) == 0
    capsys.readouterr()
    assert main(["run", str(path), "--map", FAKE_MAP, "--out", str(out), "-q"]) == 2
    assert "already holds a run; continue it with --resume" in capsys.readouterr().err
    doc["spec"]["maxTrialCount"] = 2
    write_experiment(tmp_path, doc)
    assert main(["run", str(path), "--map", FAKE_MAP, "--out", str(out), "--resume", "-q"]) == 2
    assert "the Experiment (name, namespace or spec) changed" in capsys.readouterr().err
    assert os.path.isfile(out / "result.json")


def test_unsupported_collector_is_an_error_before_any_trial(tmp_path, capsys):
    doc = experiment_doc("push", parameters=[{"name": "--x", "parameterType": "double",
                                              "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
                         command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], max_trials=1, parallel=1,
                         collector={"collector": {"kind": "Push"}})
    path = write_experiment(tmp_path, doc)
    assert main(["run", str(path), "--map", FAKE_MAP, "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "collector.kind: the local backend runs Katib's StdOut, File, TensorFlowEvent collectors; Push" in \
        capsys.readouterr().err
