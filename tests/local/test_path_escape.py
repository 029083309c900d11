"""Hostile paths: a collector path or a mapped path that climbs out of the trial's folder is refused."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from katibsim.backends.mapping import LocalMap, LocalMapError, plan_command
from katibsim.cli import main
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

from .conftest import FAKE_IN_IMAGE, FAKE_MAP, experiment_doc, write_experiment

CLIMB = "/var/log/katib/" + "../" * 30  # clamps at / whatever the depth of the trial folder
FIELD = "spec.metricsCollectorSpec.source.fileSystemPath.path"


def container(*args: str) -> dict:
    return {"name": "training", "image": "x:1", "command": ["python", FAKE_IN_IMAGE, *args]}


def plan(tmp_path: Path, collector=None, *args: str, mapping=(FAKE_MAP,)):
    return plan_command(container(*args), trial_name="t", trial_dir=tmp_path / "out" / "trials" / "t",
                        local_map=LocalMap.build(None, list(mapping)), collector=collector)


def file_collector(path: str) -> MetricsCollectorSpec:
    return MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path=path, kind="File", format="TEXT"),
                                metrics_format=("(root):(x)",))


def dir_collector(path: str) -> MetricsCollectorSpec:
    return MetricsCollectorSpec(kind="TensorFlowEvent", file_system_path=FileSystemPath(path=path, kind="Directory"))


@pytest.mark.parametrize("collector", [file_collector(CLIMB + "etc/passwd"), dir_collector(CLIMB + "tmp/escaped")])
def test_a_collector_path_climbing_out_is_refused_naming_the_field(tmp_path, collector):
    with pytest.raises(LocalMapError) as info:
        plan(tmp_path, collector)
    assert FIELD in str(info.value) and "leaves the trial's directory" in str(info.value)


def test_dotdot_that_stays_inside_is_fine(tmp_path):
    p = plan(tmp_path, file_collector("/var/log/katib/../metrics/m.log"))
    trial = tmp_path / "out" / "trials" / "t"
    assert Path(p.collector_path).resolve() == (trial / "var" / "log" / "metrics" / "m.log").resolve()


def test_a_symbolic_link_out_of_the_trial_folder_is_refused(tmp_path):
    trial = tmp_path / "out" / "trials" / "t"
    trial.mkdir(parents=True)
    os.symlink("/", trial / "train")  # e.g. left by an earlier attempt in the same folder
    with pytest.raises(LocalMapError, match=FIELD):
        plan(tmp_path, dir_collector("/train"))


def test_an_argument_under_the_collector_folder_that_climbs_out_is_refused(tmp_path):
    with pytest.raises(LocalMapError, match=r"args\[0\]|command\[2\]"):
        plan(tmp_path, dir_collector("/train"), "--log_dir=/train/" + "../" * 10 + "tmp/x")


def test_a_mapped_folder_cannot_be_left_either(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "secret").write_text("x")
    with pytest.raises(LocalMapError, match="leaves the folder it is mapped to"):
        plan(tmp_path, None, "--data=/data/../secret", mapping=(FAKE_MAP, f"/data={data}"))
    # inside the mapped folder: mapped as before
    assert plan(tmp_path, None, "--data=/data/x", mapping=(FAKE_MAP, f"/data={data}")).argv[-1] == f"--data={data}/x"


def _doc(collector: dict) -> dict:
    return experiment_doc(
        "escape", parameters=[{"name": "--x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
        command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], collector=collector, max_trials=1, parallel=1,
    )


@pytest.mark.parametrize("source", [
    {"fileSystemPath": {"path": CLIMB + "etc/passwd", "kind": "File"}, "filter": {"metricsFormat": ["(root):(x)"]}},
    {"fileSystemPath": {"path": CLIMB + "tmp/katibsim-escape-probe", "kind": "Directory"}},
])
def test_run_refuses_with_exit_2_and_creates_nothing_outside_out(tmp_path, capsys, source):
    kind = "File" if source["fileSystemPath"]["kind"] == "File" else "TensorFlowEvent"
    exp = write_experiment(tmp_path, _doc({"collector": {"kind": kind}, "source": source}))
    out = tmp_path / "out"
    code = main(["run", str(exp), "--backend", "local", "--map", FAKE_MAP, "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert FIELD in err and "Traceback" not in err
    assert not Path("/tmp/katibsim-escape-probe").exists()  # where the climb lands


def test_validate_warns_about_dotdot_in_a_collector_path(tmp_path, capsys):
    exp = write_experiment(tmp_path, _doc({"collector": {"kind": "File"},
                                           "source": {"fileSystemPath": {"path": CLIMB + "etc/passwd", "kind": "File"},
                                                      "filter": {"metricsFormat": ["(root):(x)"]}}}))
    code = main(["validate", str(exp)])
    out = capsys.readouterr()
    assert code == 0
    assert FIELD in out.out + out.err and "contains '..'" in out.out + out.err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc-free POSIX only, kept to CI's platform")
def test_a_trainer_that_links_its_output_to_a_host_file_gets_nothing_from_it(tmp_path):
    # The trainer replaces its metrics file by a symbolic link to a host file with a line the
    # filter would take: the collector refuses to read through the link.
    host = tmp_path / "host.log"
    host.write_text("root:x\n")
    script = tmp_path / "linker.py"
    script.write_text(
        "import os\n"
        f"os.makedirs('var/log/katib', exist_ok=True)\n"
        "p = 'var/log/katib/metrics.log'\n"
        "os.path.exists(p) and os.remove(p)\n"
        f"os.symlink({str(host)!r}, p)\n"
    )
    doc = experiment_doc(
        "linker", parameters=[{"name": "--x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
        command=["python", "/opt/linker.py", "--x=${trialParameters.x}"], objective="root",
        collector={"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log",
                                                                                 "kind": "File"},
                                                              "filter": {"metricsFormat": ["(root):(x)"]}}},
        max_trials=1, parallel=1,
    )
    from katibsim.spec.loader import load_experiment

    from .conftest import run_local

    result = run_local(load_experiment(write_experiment(tmp_path, doc)), tmp_path / "out",
                       mapping=[f"/opt/linker.py={script}"])
    trial = result.trials[0]
    assert trial.value is None
    assert "outside the trial's folder" in trial.message, trial.message
