"""A package outside plugins/ with a `katibsim` entry point is discovered and listed.

The package is tests/fixtures/third_party_plugin (the one docs/writing-a-plugin.md shows). It is
"installed" into a temporary directory the way pip lays it out for discovery — the module plus a
``.dist-info`` whose METADATA and entry_points.txt are generated from the package's own
pyproject.toml — because building a wheel offline is not possible with the pinned setuptools.
Discovery then goes through importlib.metadata exactly as for a pip-installed distribution.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from katibsim.plugins import PluginHost

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "third_party_plugin"
DOC = ROOT / "docs" / "writing-a-plugin.md"


def install(target: Path) -> Path:
    """Lay the fixture package out in ``target`` as an installed distribution; returns ``target``."""
    project_file = tomllib.loads((FIXTURE / "pyproject.toml").read_text())
    project = project_file["project"]
    for module in project_file["tool"]["setuptools"]["py-modules"]:
        shutil.copy(FIXTURE / f"{module}.py", target / f"{module}.py")
    info = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\nSummary: {project['description']}\n"
    )
    lines = []
    for group, eps in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (info / "INSTALLER").write_text("katibsim-tests\n")
    return target


@pytest.fixture
def installed(tmp_path, monkeypatch):
    site = install(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    # Load the installed copy, and give back whatever module the rest of the session imported.
    monkeypatch.delitem(sys.modules, "katibsim_halton", raising=False)
    yield site
    sys.modules.pop("katibsim_halton", None)


def run_cli(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KATIBSIM_")}
    environ["PYTHONPATH"] = str(site)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "katibsim.cli", *args], capture_output=True, text=True, env=environ, cwd=site, timeout=120
    )


def test_discovered_through_its_entry_point(installed):
    host = PluginHost({}, under_test=False)
    rec = host.records["halton"]
    assert (rec.source, rec.distribution, rec.version, rec.module) == ("entry point", "katibsim-halton", "0.3.0", "katibsim_halton")
    reg = host.registry("algorithms")["halton"]
    assert reg.obj.__module__ == "katibsim_halton" and reg.plugin == "halton"
    assert Path(sys.modules["katibsim_halton"].__file__).parent == installed
    assert {"random", "grid"} <= set(host.registry("algorithms"))


def test_not_autoloaded_under_test_unless_named(installed):
    assert "halton" not in PluginHost({}, under_test=True).records
    assert "halton" in PluginHost({"KATIBSIM_LOAD_PLUGINS": "halton,random"}, under_test=True).records
    assert "halton" not in PluginHost({"KATIBSIM_DISABLE_PLUGINS": "katibsim-halton"}, under_test=False).records


def test_listed_by_katibsim_plugins(installed):
    out = run_cli(installed, "plugins", "-o", "json")
    assert out.returncode == 0, out.stderr
    by_name = {p["name"]: p for p in json.loads(out.stdout)["plugins"]}
    halton = by_name["halton"]
    assert (halton["source"], halton["distribution"], halton["version"]) == ("entry point", "katibsim-halton", "0.3.0")
    assert halton["registers"] == {"algorithms": ["halton"]}
    (algo,) = halton["algorithms"]
    assert algo["capabilities"]["distributions"] == ["logUniform", "uniform"]
    assert algo["settings"][0]["name"] == "random_state"
    text = run_cli(installed, "plugins")
    assert re.search(r"^halton 0\.3\.0  entry point of katibsim-halton \(katibsim_halton\)$", text.stdout, re.M)


EXPERIMENT = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: halton-example
  namespace: kubeflow
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: halton
  parallelTrialCount: 2
  maxTrialCount: 8
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: "0.001", max: "0.1"}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - name: lr
        reference: lr
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: python:3.11
                command: ["python", "train.py", "--lr=${trialParameters.lr}"]
            restartPolicy: Never
"""


def test_an_experiment_naming_it_validates_only_when_installed(installed):
    (installed / "halton.yaml").write_text(EXPERIMENT)
    ok = run_cli(installed, "validate", "halton.yaml")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    off = run_cli(installed, "validate", "halton.yaml", KATIBSIM_DISABLE_PLUGINS="halton")
    assert off.returncode == 1
    assert "spec.algorithm.algorithmName" in off.stdout and "known algorithms:" in off.stdout


def _doc_files() -> dict[str, str]:
    """Code blocks of the guide that are introduced by a file name line: ``**`name`**``."""
    text = DOC.read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r"\*\*`([^`]+)`\*\*\n\n```[a-z]*\n(.*?)```", text, re.S)}


def test_the_guide_shows_exactly_the_tested_package():
    blocks = _doc_files()
    for name in ("pyproject.toml", "katibsim_halton.py", "test_katibsim_halton.py"):
        assert name in blocks, f"docs/writing-a-plugin.md lacks the {name} block"
        assert blocks[name] == (FIXTURE / name).read_text(), f"{name} in the guide differs from {FIXTURE / name}"
