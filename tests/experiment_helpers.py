"""The one minimal Experiment the scenario, compare and report tests build on.

Imported as ``experiment_helpers`` (``tests/`` is on sys.path, as for ``rundata_helpers``).
A scenario needs an Experiment to start from; these tests care about the runs and the report,
not the search space, so the default is the smallest document the scenario loader accepts.
"""

from __future__ import annotations

import copy
from typing import Any

_MINIMAL: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "e"},
    "spec": {"objective": {"type": "maximize", "objectiveMetricName": "y"}, "parameters": []},
}


def minimal_experiment(**spec: Any) -> dict[str, Any]:
    """A fresh copy of the minimal Experiment, with ``spec`` keys added or replaced."""
    doc = copy.deepcopy(_MINIMAL)
    doc["spec"].update(copy.deepcopy(spec))
    return doc
