"""The Kubernetes manifest and image of docs/scale.md: consistent with each other, the docs and katibsim's version."""

from __future__ import annotations

import re

import yaml

import katibsim

from .conftest import ROOT


def _manifest():
    return yaml.safe_load((ROOT / "deploy" / "daskcluster.yaml").read_text())


def test_scheduler_and_workers_run_the_katibsim_image_of_this_version():
    m = _manifest()
    assert (m["apiVersion"], m["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    worker = m["spec"]["worker"]["spec"]["containers"][0]
    scheduler = m["spec"]["scheduler"]["spec"]["containers"][0]
    assert worker["image"] == scheduler["image"] == f"katibsim:{katibsim.__version__}"
    assert f"docker build -t katibsim:{katibsim.__version__} ." in (ROOT / "Dockerfile").read_text()
    args = worker["args"]
    assert args[:2] == ["dask", "worker"] and args[args.index("--nthreads") + 1] == "1"
    assert scheduler["args"] == ["dask", "scheduler"]
    ports = {p["name"]: p["port"] for p in m["spec"]["scheduler"]["service"]["ports"]}
    assert ports["tcp-comm"] == 8786
    assert m["spec"]["scheduler"]["service"]["selector"]["dask.org/cluster-name"] == m["metadata"]["name"]


def test_the_docs_show_the_manifest_as_it_is():
    doc = (ROOT / "docs" / "scale.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", doc, re.S)]
    assert _manifest() in blocks


def test_the_image_installs_the_dask_extra_with_the_pins():
    text = (ROOT / "Dockerfile").read_text()
    assert "-c constraints.txt '.[dask]'" in text
