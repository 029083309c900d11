"""``read_trials``: a real workload's trials, in any of the formats katibsim reads, as one TrialTable.

The format is told by the content, not the name (``docs/workload-formats.md``):

1. Katib's Trials as ``kubectl get trials -l katib.kubeflow.org/experiment=NAME -o yaml`` prints
   them (``katibsim.workload.katib_trials``);
2. the same with their Experiment in the file (a List or several YAML documents), or the Experiment
   given separately (``experiment=``, ``kubectl get experiment NAME -o yaml``);
3. katibsim's run results: a ``result.json`` of ``katibsim run``, or the run folder holding one
   (``katibsim.workload.run_results``);
4. a CSV or JSON table, one row per trial (``katibsim.workload.row_tables``).

Every problem is an :class:`~katibsim.errors.InputError` naming the file, the item or row and
field, and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from katibsim.errors import InputError
from katibsim.spec.loader import read_text
from katibsim.workload.experiment_info import read_experiment_file
from katibsim.workload.katib_trials import is_katib_document, read_katib_objects
from katibsim.workload.row_tables import csv_rows, json_rows, read_rows
from katibsim.workload.run_results import RESULT_FILE, is_run_result, read_run_result
from katibsim.workload.table import TrialTable

__all__ = ["read_trials", "RESULT_FILE"]


DIRECTIONS = ("maximize", "minimize")


def read_trials(path: str | Path, *, experiment: str | Path | None = None, metric: str | None = None,
                direction: str | None = None) -> TrialTable:
    """The trials in ``path`` (any format above); ``experiment``: the Experiment's file, when separate;
    ``metric``: the objective metric, when it is not the one the trials or the Experiment name;
    ``direction``: maximize | minimize, for a metric whose direction the source does not say (a
    table without its Experiment, another metric than the objective); it must not contradict one
    the source says."""
    if direction is not None and direction not in DIRECTIONS:
        raise InputError(f"direction: expected maximize or minimize, got {direction!r}")
    table = _read(path, experiment=experiment, metric=metric, direction=direction)
    if direction is None or table.direction == direction:
        return table
    if table.direction is not None:
        raise InputError(f"{table.source}: the trials {table.direction} {table.metric_name}; direction={direction} "
                         "contradicts that")
    return replace(table, direction=direction)


def _read(path: str | Path, *, experiment: str | Path | None, metric: str | None, direction: str | None) -> TrialTable:
    file = str(path)
    p = Path(path)
    if p.is_dir():
        if not (p / RESULT_FILE).is_file():
            raise InputError(f"{file}: a folder without {RESULT_FILE}; expected a katibsim run folder (katibsim run "
                             "--out DIR) or a trials file")
        p = p / RESULT_FILE
        file = str(p)
    info = read_experiment_file(experiment) if experiment is not None else None
    source = file if experiment is None else f"{file} (Experiment: {experiment})"
    text = read_text(p)
    if not text.strip():
        raise InputError(f"{file}: empty, expected trials")
    kwargs = dict(file=file, source=source, experiment=info, metric=metric or None)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        from katibsim.spec.yamlread import load_json

        try:
            doc = load_json(text, file=file)
        except json.JSONDecodeError as err:
            raise InputError(f"{file}:{err.lineno}:{err.colno}: invalid JSON: {err.msg}") from None
        if is_run_result(doc):
            return read_run_result(doc, **kwargs)
        if is_katib_document(doc) or (isinstance(doc, list) and doc and all(is_katib_document(d) for d in doc)):
            return read_katib_objects(doc if isinstance(doc, list) else [doc], **kwargs)
        if isinstance(doc, dict):
            raise InputError(f"{file}: a JSON object that is neither a Katib object (apiVersion, kind) nor a katibsim "
                             f"run result (schema, trials, ...); a JSON table is a list of row objects")
        return read_rows(json_rows(doc, file=file), direction=direction, **kwargs)
    docs = _yaml_documents(text, file=file)
    if docs is not None:
        return read_katib_objects(docs, **kwargs)
    return read_rows(csv_rows(text, file=file), direction=direction, **kwargs)


def _yaml_documents(text: str, *, file: str) -> list | None:
    """The YAML documents when the text is YAML holding Katib objects, else None (a table)."""
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if ":" not in first and not first.startswith("---"):
        return None  # a CSV header (`name,lr,...`) is no YAML mapping
    from katibsim.spec.yamlread import load_yaml_documents

    try:
        docs = [d for d in load_yaml_documents(text, file=file) if d is not None]
    except InputError:
        if "," in first:
            return None  # e.g. a CSV whose header has a ':' in a column name
        raise
    # a top-level YAML sequence of objects is read like a List's items
    docs = [x for d in docs for x in (d if isinstance(d, list) else [d])]
    if docs and all(is_katib_document(d) for d in docs):
        return docs
    if all(isinstance(d, dict) for d in docs) and docs:
        raise InputError(f"{file}: YAML without Katib objects (apiVersion and kind); expected `kubectl get trials "
                         "-o yaml` output")
    return None
