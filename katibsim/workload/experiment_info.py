"""What a workload reader takes from an Experiment: metric, direction, strategies, space, run setup.

The Experiment is read by katibsim's own loader with Katib's defaults applied
(``katibsim.spec.defaults``), so a metric without a strategy entry gets Katib's default (``max``
for a maximized objective, ``min`` for a minimized one, ``latest`` otherwise:
``katibsim.spec.model.default_metric_strategy``), exactly as Katib's mutating webhook would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from katibsim.errors import InputError, SpecError
from katibsim.spec.model import Experiment, default_metric_strategy
from katibsim.spec.space import SearchSpace


@dataclass(frozen=True)
class ExperimentInfo:
    """The parts of an Experiment a :class:`~katibsim.workload.table.TrialTable` carries."""

    name: str | None
    raw: Mapping[str, Any]
    metric_name: str | None
    direction: str | None
    goal: float | None
    space: SearchSpace
    additional_metrics: tuple[str, ...] = ()
    strategies: Mapping[str, str] = field(default_factory=dict)
    algorithm_name: str | None = None
    algorithm_settings: Mapping[str, str] = field(default_factory=dict)
    parallel_trial_count: int | None = None
    max_trial_count: int | None = None

    def strategy(self, metric: str) -> str:
        """Katib's strategy for ``metric``: its entry, else the default for the objective type."""
        return self.strategies.get(metric) or default_metric_strategy(self.direction)


def info_from_experiment(exp: Experiment, raw: Mapping[str, Any], *, file: str) -> ExperimentInfo:
    """An :class:`ExperimentInfo` from a loaded (defaulted) Experiment; its raw mapping is kept."""
    try:
        space = exp.search_space()
    except SpecError as err:
        raise InputError(f"{file}: the Experiment's parameters are not a valid search space: {err}") from None
    obj = exp.spec.objective
    alg = exp.spec.algorithm
    return ExperimentInfo(
        name=exp.name or None,
        raw=raw,
        metric_name=obj.objective_metric_name if obj else None,
        direction=obj.type if obj and obj.type in ("maximize", "minimize") else None,
        goal=obj.goal if obj else None,
        space=space,
        additional_metrics=tuple(obj.additional_metric_names) if obj else (),
        strategies={s.name: s.value for s in obj.metric_strategies} if obj else {},
        algorithm_name=alg.algorithm_name if alg else None,
        algorithm_settings=alg.settings() if alg else {},
        parallel_trial_count=exp.spec.parallel_trial_count,
        max_trial_count=exp.spec.max_trial_count,
    )


def info_from_object(doc: Mapping[str, Any], *, file: str, where: str) -> ExperimentInfo:
    """One Experiment object (``kubectl get experiment -o yaml``, status included) read and defaulted."""
    from katibsim.spec.loader import experiment_from_dict

    try:
        exp = experiment_from_dict(dict(doc), file=file)
    except SpecError as err:
        first = err.errors[0] if err.errors else None
        detail = first.render() if first else str(err)
        if first is not None and first.file:
            detail = detail[len(f"{first.file}: "):]
        raise InputError(f"{file}: {where}: not a readable Katib Experiment: {detail}") from None
    return info_from_experiment(exp, doc, file=file)


def experiment_objects(docs: Iterable[Any]) -> list[tuple[str, Any]]:
    """Documents with the items of ``kind: List`` expanded, each with where it is (for messages)."""
    out: list[tuple[str, Any]] = []
    docs = list(docs)
    for n, doc in enumerate(docs):
        prefix = f"document {n + 1}" if len(docs) > 1 else ""
        if isinstance(doc, Mapping) and doc.get("kind") == "List":
            items = doc.get("items")
            if items is None:
                items = []
            if not isinstance(items, list):
                raise InputError(f"{prefix + ': ' if prefix else ''}items: expected a list of objects")
            out += [(f"{prefix + ' ' if prefix else ''}items[{i}]", item) for i, item in enumerate(items)]
        else:
            out.append((prefix or "document 1", doc))
    return out


def read_experiment_file(path: str | Path) -> ExperimentInfo:
    """The one Experiment of a file (``kubectl get experiment NAME -o yaml``, or the file that made it)."""
    from katibsim.spec.loader import read_documents, read_text

    name = str(path)
    docs = read_documents(read_text(name), file=name)
    found = [(w, d) for w, d in experiment_objects(docs) if isinstance(d, Mapping) and d.get("kind") == "Experiment"]
    if len(found) != 1:
        raise InputError(f"{name}: expected exactly one Katib Experiment (kind: Experiment), found {len(found)}")
    where, doc = found[0]
    return info_from_object(doc, file=name, where=where)
