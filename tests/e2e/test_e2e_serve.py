"""e2e: katibsim's ``katibsim-bo`` served by ``katibsim serve`` as a real Katib suggestion service on kind.

NOT run on this project's CI machines (no container engine, no kind): it skips with its reason.
The ``e2e-kind`` workflow's ``serve`` job builds ``deploy/Dockerfile.serve``, loads it into kind,
registers it in katib-config (``deploy/katib-config-katibsim.yaml``) and runs this test
(docs/serve.md, "On kind").
"""

from __future__ import annotations

import pytest
import yaml
from conftest import NAMESPACE, require_cluster
from test_e2e_kind import job_experiment

ALGORITHM = "katibsim-bo"
SERVE_IMAGE = "katibsim-serve:0.1"


def _registered(kube) -> str | None:
    """Why katib-config does not route ALGORITHM to katibsim's image; None when it does."""
    res = kube.resource("v1", "ConfigMap")
    cm = kube.get(res, "katib-config", "kubeflow")
    if cm is None:
        return "ConfigMap kubeflow/katib-config not found (Katib not installed?)"
    config = yaml.safe_load((cm.get("data") or {}).get("katib-config.yaml") or "{}") or {}
    for s in (config.get("runtime") or {}).get("suggestions") or []:
        if s.get("algorithmName") == ALGORITHM:
            return None if s.get("image") == SERVE_IMAGE else f"katib-config routes {ALGORITHM} to {s.get('image')}, not {SERVE_IMAGE}"
    return (f"katib-config has no suggestion {ALGORITHM}: build deploy/Dockerfile.serve as {SERVE_IMAGE}, "
            "kind load it and merge deploy/katib-config-katibsim.yaml (docs/serve.md)")


@pytest.mark.kind
@pytest.mark.katib
def test_katib_runs_an_experiment_with_katibsim_bo(kube):
    require_cluster("katib")
    why = _registered(kube)
    if why:
        pytest.skip(why)
    from katibsim import plugins
    from katibsim.k8s.katib_mode import run_katib
    from katibsim.spec.loader import experiment_from_dict

    if ALGORITHM not in plugins.algorithms():
        pytest.skip(f"algorithm {ALGORITHM} is not registered in this katibsim (its plugin is not installed)")
    doc = job_experiment(["python", "-c", "import sys; lr = float(sys.argv[1].split('=')[1]); "
                                          "print(f'accuracy={1 - (lr - 0.03) ** 2}')"],
                         name="e2e-serve", maxTrialCount=4, parallelTrialCount=2, maxFailedTrialCount=0)
    doc["spec"]["algorithm"] = {"algorithmName": ALGORITHM}
    doc["spec"]["resumePolicy"] = "LongRunning"  # keeps the suggestion Deployment, so its pod can be checked
    exp = experiment_from_dict(doc, file="e2e-serve.yaml")
    result = run_katib(exp, kube, timeout=1800, poll=10)
    assert result.backend == "katib" and result.outcome == "Succeeded", result.reason
    assert len(result.trials) == 4 and all(t.condition == "Succeeded" for t in result.trials)
    # Katib's controller really talked to katibsim: the suggestion pod runs katibsim's image.
    pods, _ = kube.list(kube.resource("v1", "Pod"), NAMESPACE, "katib.kubeflow.org/experiment=e2e-serve")
    images = {c["image"] for p in pods for c in p["spec"]["containers"]}
    assert SERVE_IMAGE in images, images
