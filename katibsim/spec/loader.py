"""Read Katib Experiment files (YAML or JSON, one or many documents) into the internal model.

``kubeflow.org/v1beta1`` is read as it is; ``kubeflow.org/v1alpha3`` is converted on load into
the internal v1beta1 model (docs/katib-behaviour.md §1.3): ``goTemplate.rawTemplate`` goes to
``TrialTemplate.go_template``, ``goTemplate.templateSpec`` to ``go_template_spec``, the early
stopping that v1alpha3 keeps inside ``algorithm`` moves to ``spec.early_stopping``; v1alpha3 has
no metric strategies and no distributions, so none are read. ``Experiment.source_api_version``
remembers where it came from.

Katib's CRD has no schema; its webhook decodes the object into Go structs, so a value of the
wrong JSON type (a YAML number where Katib keeps a string, a list where a mapping belongs) makes
``kubectl apply`` fail. Here every such problem becomes a ``FieldError`` at its field path, never
an exception; unknown fields (which Go silently drops) become warnings, because they are nearly
always typos. Defaults (§1.2) are applied by ``katibsim.spec.defaults`` unless ``defaults=False``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from katibsim.errors import FieldError, InputError, SpecError
from katibsim.spec.model import (
    V1ALPHA3,
    V1BETA1,
    AlgorithmSetting,
    AlgorithmSpec,
    Experiment,
    ExperimentSpec,
    FeasibleSpace,
    FileSystemPath,
    MetricsCollectorSpec,
    MetricStrategy,
    ObjectiveSpec,
    ParameterSpec,
    TrialParameterSpec,
    TrialTemplate,
)
from katibsim.spec.yamlread import load_json, load_yaml_documents

SUPPORTED_API_VERSIONS: tuple[str, ...] = (V1BETA1, V1ALPHA3)
KATIB_GROUP = "kubeflow.org"
DEFAULT_NAMESPACE = "default"  # what kubectl uses when neither the file nor the context says
_INT32_MAX = 2**31 - 1

__all__ = [
    "ExperimentDocument",
    "LoadResult",
    "SUPPORTED_API_VERSIONS",
    "experiment_from_dict",
    "load_experiment",
    "load_file",
    "load_text",
    "parse_experiment",
    "read_documents",
    "read_text",
]


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExperimentDocument:
    """One Experiment object of a file, read as far as possible.

    ``experiment`` is the best-effort model (fields of the wrong type left out) or None when the
    object could not be read at all; ``problems`` holds its reading errors and warnings.
    """

    index: int  # position among the file's objects (0-based)
    where: str  # "document 2" or "document 1 item 3", for messages
    api_version: str | None
    name: str | None
    experiment: Experiment | None
    problems: tuple[FieldError, ...] = ()

    @property
    def errors(self) -> tuple[FieldError, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        return self.experiment is not None and not self.errors


@dataclass(frozen=True)
class LoadResult:
    """What a file holds: its readable experiments, notes about skipped objects, and problems.

    ``experiments`` has only the experiments read without errors; ``errors`` holds every reading
    problem of the file (warnings included, ``severity="warning"``); ``documents`` has one entry
    per Experiment object, including the broken ones, for reporting.
    """

    experiments: tuple[Experiment, ...]
    notes: tuple[str, ...]
    errors: tuple[FieldError, ...]
    documents: tuple[ExperimentDocument, ...] = ()
    file: str | None = None

    @property
    def ok(self) -> bool:
        return not any(e.severity == "error" for e in self.errors)


# ------------------------------------------------------------------------------------------------
# public entry points
# ------------------------------------------------------------------------------------------------
def load_file(path: str | Path, *, defaults: bool = True) -> LoadResult:
    """Read every Experiment of a YAML/JSON file; ``"-"`` reads standard input.

    Raises InputError (naming the file, and the line for YAML errors) when the file cannot be
    read or parsed; everything wrong inside a parsed document is reported in the result.
    """
    name = str(path)
    text = read_text(name)
    return load_text(text, file=name, defaults=defaults)


def load_text(text: str, *, file: str = "<string>", defaults: bool = True) -> LoadResult:
    """``load_file`` for text already in memory (``file`` is used in messages)."""
    docs = read_documents(text, file=file)
    notes: list[str] = []
    problems: list[FieldError] = []
    documents: list[ExperimentDocument] = []
    experiments: list[Experiment] = []
    for index, (label, obj) in enumerate(_objects(docs)):
        if not isinstance(obj, dict):
            problems.append(
                FieldError(
                    "", f"{label}: expected a Kubernetes object (a mapping with apiVersion and kind), got {_a(obj)}", file
                )
            )
            continue
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind != "Experiment":
            if kind is None or not isinstance(kind, str) or not kind:
                problems.append(FieldError("kind", f"{label}: Object 'Kind' is missing", file, kind="required"))
            else:
                notes.append(f"{label}: kind {kind} skipped")
            continue
        if isinstance(api_version, str) and not api_version.startswith(KATIB_GROUP + "/"):
            notes.append(f"{label}: kind Experiment of apiVersion {api_version} skipped (not Katib)")
            continue
        exp, found = parse_experiment(obj, file=file, index=index)
        if exp is not None and defaults:
            from katibsim.spec.defaults import apply_defaults

            exp = apply_defaults(exp)
        doc = ExperimentDocument(
            index=index,
            where=label,
            api_version=api_version if isinstance(api_version, str) else None,
            name=exp.name if exp is not None else _meta_name(obj),
            experiment=exp,
            problems=tuple(found),
        )
        documents.append(doc)
        problems.extend(found)
        if doc.ok and exp is not None:
            experiments.append(exp)
    return LoadResult(tuple(experiments), tuple(notes), tuple(problems), tuple(documents), file)


def load_experiment(path: str | Path, *, defaults: bool = True) -> Experiment:
    """The one Experiment of a file (defaulted); SpecError when it is broken or not exactly one."""
    result = load_file(path, defaults=defaults)
    errors = [e for e in result.errors if e.severity == "error"]
    if errors:
        raise SpecError(errors)
    if len(result.experiments) != 1:
        found = len(result.experiments)
        raise SpecError(
            FieldError("", f"expected exactly one Experiment in the file, found {found}", str(path), kind="invalid")
        )
    return result.experiments[0]


def experiment_from_dict(
    doc: Any, *, file: str | None = None, index: int = 0, defaults: bool = True
) -> Experiment:
    """One Experiment object (a parsed YAML/JSON mapping) -> the internal model.

    Raises SpecError with every structural problem (wrong types, missing apiVersion, ...) when the
    document cannot be read faithfully; warnings (unknown fields) do not raise.
    """
    exp, found = parse_experiment(doc, file=file, index=index)
    errors = [e for e in found if e.severity == "error"]
    if errors or exp is None:
        raise SpecError(errors or [FieldError("", "not an Experiment", file)])
    if defaults:
        from katibsim.spec.defaults import apply_defaults

        exp = apply_defaults(exp)
    return exp


def parse_experiment(doc: Any, *, file: str | None = None, index: int = 0) -> tuple[Experiment | None, list[FieldError]]:
    """Best-effort reading of one Experiment object, undefaulted, with every problem found.

    Fields of the wrong type are reported and left out, so the rest can still be validated.
    Returns ``(None, problems)`` only when the object is not an Experiment of a supported version.
    """
    r = _Reader(file)
    if not isinstance(doc, dict):
        r.error("", f"expected a Kubernetes object (a mapping with apiVersion and kind), got {_a(doc)}", None)
        return None, r.problems
    kind = doc.get("kind")
    if kind != "Experiment":
        r.error("kind", "expected kind Experiment", kind)
        return None, r.problems
    api_version = doc.get("apiVersion")
    if api_version in (None, ""):
        r.required("apiVersion", f"must be specified (one of {', '.join(SUPPORTED_API_VERSIONS)})")
        return None, r.problems
    if api_version not in SUPPORTED_API_VERSIONS:
        r.error(
            "apiVersion",
            f"apiVersion is not supported; katibsim reads {' and '.join(SUPPORTED_API_VERSIONS)}",
            api_version,
            kind="not-supported",
        )
        return None, r.problems
    r.version = api_version
    r.keys(doc, ("apiVersion", "kind", "metadata", "spec", "status"), "")
    metadata = r.mapping(doc.get("metadata"), "metadata")
    if doc.get("metadata") is None:
        r.required("metadata", "must be specified (with name and namespace)")
    metadata = metadata or {}
    name = r.string(metadata, "name", "metadata")
    namespace = r.string(metadata, "namespace", "metadata")
    plain_meta = r.plain(metadata, "metadata") if metadata else {}
    spec_raw = r.mapping(doc.get("spec"), "spec") or {}
    if api_version == V1BETA1:
        spec = _read_spec_v1beta1(r, spec_raw)
    else:
        spec = _read_spec_v1alpha3(r, spec_raw)
    exp = Experiment(
        name=name or "",
        namespace=namespace or DEFAULT_NAMESPACE,
        spec=spec,
        api_version=V1BETA1,
        source_api_version=api_version,
        source_file=file,
        document_index=index,
        metadata=plain_meta if isinstance(plain_meta, dict) else {},
    )
    return exp, r.problems


def read_documents(text: str, *, file: str = "<string>") -> list[Any]:
    """Parse YAML (one or many documents) or JSON text; InputError names the file and line.

    The limits (alias expansion, integer length, duplicate keys) are ``katibsim.spec.yamlread``'s.
    """
    stripped = text.lstrip()
    if file.endswith(".json") or stripped.startswith(("{", "[")):
        try:
            data = load_json(text, file=file)
        except json.JSONDecodeError as err:
            if file.endswith(".json"):
                raise InputError(f"{file}:{err.lineno}:{err.colno}: invalid JSON: {err.msg}") from None
        else:
            # A JSON array is read like `kubectl apply` reads a List: one object per item.
            return list(data) if isinstance(data, list) else [data]
    return load_yaml_documents(text, file=file)


# ------------------------------------------------------------------------------------------------
# file reading
# ------------------------------------------------------------------------------------------------
def read_text(name: str) -> str:
    """A file's text (UTF-8, a BOM dropped; ``-`` reads standard input); InputError naming the file."""
    if name == "-":
        try:
            return sys.stdin.read()
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"<stdin>: cannot read: {err}") from None
    p = Path(name)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, expected a YAML or JSON file") from None
    except OSError as err:
        raise InputError(f"{name}: cannot read: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: not UTF-8 text (byte {err.start})") from None


def _objects(docs: Iterable[Any]) -> Iterable[tuple[str, Any]]:
    """Documents, with the items of a ``kind: List`` (as ``kubectl get -o yaml`` prints) expanded."""
    for n, doc in enumerate(docs, start=1):
        if doc is None:  # an empty document (a trailing `---`)
            continue
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            for i, item in enumerate(doc["items"], start=1):
                yield f"document {n} item {i}", item
        else:
            yield f"document {n}", doc


def _meta_name(obj: dict) -> str | None:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
        return meta["name"]
    return None


# ------------------------------------------------------------------------------------------------
# typed reading with errors at field paths
# ------------------------------------------------------------------------------------------------
def _a(value: Any) -> str:
    """'a string', 'an integer (5)', ... for messages about the wrong type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})" if len(value) <= 40 else "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Reader:
    """Collects problems while pulling typed values out of plain YAML/JSON data."""

    def __init__(self, file: str | None):
        self.file = file
        self.version = V1BETA1
        self.problems: list[FieldError] = []

    # -- problem recording ---------------------------------------------------------------------
    def error(self, path: str, message: str, value: Any, kind: str = "invalid") -> None:
        self.problems.append(FieldError(path, message, self.file, _printable(value), kind))

    def required(self, path: str, message: str) -> None:
        self.problems.append(FieldError(path, message, self.file, None, "required"))

    def warn(self, path: str, message: str, value: Any = None) -> None:
        self.problems.append(FieldError(path, message, self.file, _printable(value), "invalid", "warning"))

    def keys(self, m: dict, allowed: Iterable[str], path: str, extra: dict[str, str] | None = None) -> None:
        """Warn about keys Katib's Go structs do not have (Go drops them silently)."""
        allowed = set(allowed)
        for key in m:
            if key in allowed:
                continue
            where = _join(path, str(key))
            if extra and key in extra:
                self.warn(where, extra[key])
            elif not isinstance(key, str):
                self.error(where, f"expected a string key, got {_a(key)}", key)
            else:
                hint = _close_key(key, allowed)
                tip = f"; did you mean {hint}?" if hint else ""
                self.warn(
                    where,
                    f"unknown field in {self.version} (Katib ignores it){tip}",
                )

    # -- typed values --------------------------------------------------------------------------
    def mapping(self, value: Any, path: str) -> dict | None:
        if value is None:
            return None
        if isinstance(value, dict):
            return value
        self.error(path, f"expected a mapping, got {_a(value)}", value)
        return None

    def list(self, value: Any, path: str) -> list | None:
        if value is None:
            return None
        if isinstance(value, list):
            return value
        self.error(path, f"expected a list, got {_a(value)}", value)
        return None

    def string(self, m: dict, key: str, path: str, *, hint: str = "") -> str | None:
        return self.string_value(m.get(key), _join(path, key), hint=hint)

    def string_value(self, v: Any, path: str, *, hint: str = "") -> str | None:
        if v is None:
            return None
        if isinstance(v, str):
            return v
        if hint and isinstance(v, (int, float)) and not isinstance(v, bool):
            self.error(path, f"expected a string, got {_a(v)}; {hint}: \"{_yaml_scalar(v)}\"", v)
            # The intent is plain, so the best-effort model keeps the number as Katib's string:
            # the other checks then judge the value instead of calling it missing.
            return _yaml_scalar(v)
        else:
            self.error(path, f"expected a string, got {_a(v)}", v)
        return None

    def int32(self, m: dict, key: str, path: str) -> int | None:
        v = m.get(key)
        where = _join(path, key)
        if v is None:
            return None
        if isinstance(v, int) and not isinstance(v, bool):
            if -_INT32_MAX - 1 <= v <= _INT32_MAX:
                return v
            self.error(where, "expected a 32-bit integer (Katib's int32)", v)
            return None
        self.error(where, f"expected an integer, got {_a(v)}", v)
        return None

    def number(self, m: dict, key: str, path: str) -> float | None:
        v = m.get(key)
        where = _join(path, key)
        if v is None:
            return None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not math.isfinite(float(v)):
                self.error(where, "expected a finite number", v)
                return None
            return float(v)
        self.error(where, f"expected a number, got {_a(v)}", v)
        return None

    def boolean(self, m: dict, key: str, path: str) -> bool | None:
        v = m.get(key)
        if v is None:
            return None
        if isinstance(v, bool):
            return v
        self.error(_join(path, key), f"expected a boolean (true or false), got {_a(v)}", v)
        return None

    def strings(self, m: dict, key: str, path: str, *, hint: str = "") -> tuple[str, ...] | None:
        where = _join(path, key)
        items = self.list(m.get(key), where)
        if items is None:
            return None
        out = []
        for i, v in enumerate(items):
            s = self.string_value(v, f"{where}[{i}]", hint=hint)
            if s is not None:
                out.append(s)
        return tuple(out)

    def string_map(self, m: dict, key: str, path: str) -> dict[str, str] | None:
        where = _join(path, key)
        raw = self.mapping(m.get(key), where)
        if raw is None:
            return None
        out: dict[str, str] = {}
        for k, v in raw.items():
            if not isinstance(k, str):
                self.error(f"{where}[{k}]", f"expected a string key, got {_a(k)}", k)
                continue
            s = self.string_value(v, f"{where}[{k}]", hint="label values are strings; quote it")
            if s is not None:
                out[k] = s
        return out

    def plain(self, value: Any, path: str) -> Any:
        """A JSON-compatible deep copy of free-form data (a trial manifest, nasConfig, ...).

        Kubernetes stores JSON: non-string keys, binary, sets, NaN/inf and recursive YAML
        aliases cannot be sent to it, so they are reported here rather than later.
        """
        return self._plain(value, path, set(), 0)

    def _plain(self, value: Any, path: str, active: set[int], depth: int) -> Any:
        if depth > 200:
            self.error(path, "nesting too deep", None)
            return None
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                self.error(path, "JSON cannot represent this number", value)
                return None
            return value
        if isinstance(value, (_dt.date, _dt.datetime)):
            # sigs.k8s.io/yaml turns a YAML timestamp into its string form
            return value.isoformat()
        if isinstance(value, (dict, list)):
            if id(value) in active:
                self.error(path, "recursive YAML alias (the object contains itself)", None)
                return None
            active.add(id(value))
            try:
                if isinstance(value, dict):
                    out: dict[str, Any] = {}
                    for k, v in value.items():
                        if not isinstance(k, str):
                            self.error(_join(path, str(k)), f"expected a string key, got {_a(k)}", k)
                            continue
                        out[k] = self._plain(v, _join(path, k), active, depth + 1)
                    return out
                return [self._plain(v, f"{path}[{i}]", active, depth + 1) for i, v in enumerate(value)]
            finally:
                active.discard(id(value))
        self.error(path, f"expected JSON data, got {_a(value)}", None)
        return None


def _printable(value: Any) -> Any:
    """Values kept in FieldError: scalars as they are, containers summarised (they can be huge)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return "<mapping>"
    if isinstance(value, (list, tuple)):
        return "<list>"
    return repr(value)


def _yaml_scalar(v: Any) -> str:
    return str(v)


def _close_key(key: str, allowed: Iterable[str]) -> str | None:
    """A known key that differs from ``key`` only by case or a small typo."""
    import difflib

    lowered = {a.lower(): a for a in allowed}
    if key.lower() in lowered:
        return lowered[key.lower()]
    match = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.8)
    return match[0] if match else None


# ------------------------------------------------------------------------------------------------
# spec readers
# ------------------------------------------------------------------------------------------------
_SPEC_V1BETA1 = (
    "parameters", "objective", "algorithm", "earlyStopping", "trialTemplate", "parallelTrialCount",
    "maxTrialCount", "maxFailedTrialCount", "metricsCollectorSpec", "nasConfig", "resumePolicy",
)
_SPEC_V1ALPHA3 = tuple(k for k in _SPEC_V1BETA1 if k != "earlyStopping")
_NUMBER_HINT = "Katib keeps feasibleSpace values as strings; quote it"


def _read_spec_v1beta1(r: _Reader, s: dict) -> ExperimentSpec:
    r.keys(s, _SPEC_V1BETA1, "spec")
    return ExperimentSpec(
        parameters=_read_parameters(r, s, distribution=True),
        objective=_read_objective(r, s, strategies=True),
        algorithm=_read_algorithm(r, s.get("algorithm"), "spec.algorithm", v1alpha3=False)[0],
        early_stopping=_read_algorithm(r, s.get("earlyStopping"), "spec.earlyStopping", v1alpha3=False)[0],
        trial_template=_read_trial_template_v1beta1(r, s.get("trialTemplate")),
        parallel_trial_count=r.int32(s, "parallelTrialCount", "spec"),
        max_trial_count=r.int32(s, "maxTrialCount", "spec"),
        max_failed_trial_count=r.int32(s, "maxFailedTrialCount", "spec"),
        metrics_collector_spec=_read_collector(r, s.get("metricsCollectorSpec"), file_format=True),
        resume_policy=r.string(s, "resumePolicy", "spec"),
        nas_config=_read_nas(r, s),
    )


def _read_spec_v1alpha3(r: _Reader, s: dict) -> ExperimentSpec:
    r.keys(s, _SPEC_V1ALPHA3, "spec", extra={"earlyStopping": "v1alpha3 has no spec.earlyStopping (it sits in spec.algorithm.earlyStopping); Katib ignores it"})
    algorithm, early = _read_algorithm(r, s.get("algorithm"), "spec.algorithm", v1alpha3=True)
    return ExperimentSpec(
        parameters=_read_parameters(r, s, distribution=False),
        objective=_read_objective(r, s, strategies=False),
        algorithm=algorithm,
        early_stopping=early,
        trial_template=_read_trial_template_v1alpha3(r, s.get("trialTemplate")),
        parallel_trial_count=r.int32(s, "parallelTrialCount", "spec"),
        max_trial_count=r.int32(s, "maxTrialCount", "spec"),
        max_failed_trial_count=r.int32(s, "maxFailedTrialCount", "spec"),
        metrics_collector_spec=_read_collector(r, s.get("metricsCollectorSpec"), file_format=False),
        resume_policy=r.string(s, "resumePolicy", "spec"),
        nas_config=_read_nas(r, s),
    )


def _read_nas(r: _Reader, s: dict) -> dict | None:
    raw = r.mapping(s.get("nasConfig"), "spec.nasConfig")
    return r.plain(raw, "spec.nasConfig") if raw is not None else None


def _read_parameters(r: _Reader, s: dict, *, distribution: bool) -> tuple[ParameterSpec, ...]:
    items = r.list(s.get("parameters"), "spec.parameters") or []
    out: list[ParameterSpec] = []
    for i, item in enumerate(items):
        path = f"spec.parameters[{i}]"
        m = r.mapping(item, path)
        if m is None:
            if item is None:
                r.error(path, "expected a parameter (name, parameterType, feasibleSpace), got null", None)
            continue
        r.keys(m, ("name", "parameterType", "feasibleSpace"), path)
        fs_path = f"{path}.feasibleSpace"
        fs = r.mapping(m.get("feasibleSpace"), fs_path) or {}
        fs_keys = ("min", "max", "list", "step", "distribution") if distribution else ("min", "max", "list", "step")
        r.keys(
            fs, fs_keys, fs_path,
            extra=None if distribution else {"distribution": "v1alpha3 has no feasibleSpace.distribution (added in Katib v0.18); Katib ignores it"},
        )
        out.append(
            ParameterSpec(
                name=r.string(m, "name", path) or "",
                parameter_type=r.string(m, "parameterType", path) or "",
                feasible_space=FeasibleSpace(
                    min=r.string(fs, "min", fs_path, hint=_NUMBER_HINT),
                    max=r.string(fs, "max", fs_path, hint=_NUMBER_HINT),
                    list=r.strings(fs, "list", fs_path, hint=_NUMBER_HINT),
                    step=r.string(fs, "step", fs_path, hint=_NUMBER_HINT),
                    distribution=r.string(fs, "distribution", fs_path) if distribution else None,
                ),
            )
        )
    return tuple(out)


def _read_objective(r: _Reader, s: dict, *, strategies: bool) -> ObjectiveSpec | None:
    path = "spec.objective"
    m = r.mapping(s.get("objective"), path)
    if m is None:
        return None
    allowed = ("type", "goal", "objectiveMetricName", "additionalMetricNames", "metricStrategies")
    r.keys(
        m, allowed if strategies else allowed[:4], path,
        extra=None if strategies else {"metricStrategies": "v1alpha3 has no metricStrategies; Katib ignores it"},
    )
    metric_strategies: list[MetricStrategy] = []
    if strategies:
        for i, item in enumerate(r.list(m.get("metricStrategies"), f"{path}.metricStrategies") or []):
            ipath = f"{path}.metricStrategies[{i}]"
            sm = r.mapping(item, ipath)
            if sm is None:
                continue
            r.keys(sm, ("name", "value"), ipath)
            metric_strategies.append(MetricStrategy(r.string(sm, "name", ipath) or "", r.string(sm, "value", ipath) or ""))
    return ObjectiveSpec(
        type=r.string(m, "type", path),
        goal=r.number(m, "goal", path),
        objective_metric_name=r.string(m, "objectiveMetricName", path),
        additional_metric_names=r.strings(m, "additionalMetricNames", path) or (),
        metric_strategies=tuple(metric_strategies),
    )


def _read_settings(r: _Reader, items: Any, path: str) -> tuple[AlgorithmSetting, ...]:
    out: list[AlgorithmSetting] = []
    for i, item in enumerate(r.list(items, path) or []):
        ipath = f"{path}[{i}]"
        m = r.mapping(item, ipath)
        if m is None:
            continue
        r.keys(m, ("name", "value"), ipath)
        out.append(
            AlgorithmSetting(
                r.string(m, "name", ipath) or "",
                r.string(m, "value", ipath, hint="Katib keeps setting values as strings; quote it") or "",
            )
        )
    return tuple(out)


def _read_algorithm(r: _Reader, raw: Any, path: str, *, v1alpha3: bool) -> tuple[AlgorithmSpec | None, AlgorithmSpec | None]:
    """``spec.algorithm`` (and, for v1alpha3, the early stopping nested in it)."""
    m = r.mapping(raw, path)
    if m is None:
        return None, None
    r.keys(m, ("algorithmName", "algorithmSettings", "earlyStopping") if v1alpha3 else ("algorithmName", "algorithmSettings"), path)
    spec = AlgorithmSpec(
        algorithm_name=r.string(m, "algorithmName", path),
        algorithm_settings=_read_settings(r, m.get("algorithmSettings"), f"{path}.algorithmSettings"),
    )
    early = None
    if v1alpha3:
        epath = f"{path}.earlyStopping"
        em = r.mapping(m.get("earlyStopping"), epath)
        if em is not None:
            r.keys(em, ("earlyStoppingAlgorithmName", "earlyStoppingSettings"), epath)
            early = AlgorithmSpec(
                algorithm_name=r.string(em, "earlyStoppingAlgorithmName", epath),
                algorithm_settings=_read_settings(r, em.get("earlyStoppingSettings"), f"{epath}.earlyStoppingSettings"),
            )
    return spec, early


def _read_config_map(r: _Reader, raw: Any, path: str) -> dict | None:
    m = r.mapping(raw, path)
    if m is None:
        return None
    keys = ("configMapName", "configMapNamespace", "templatePath")
    r.keys(m, keys, path)
    out = {}
    for k in keys:
        v = r.string(m, k, path)
        if v is not None:
            out[k] = v
    return out


def _read_trial_template_v1beta1(r: _Reader, raw: Any) -> TrialTemplate | None:
    path = "spec.trialTemplate"
    m = r.mapping(raw, path)
    if m is None:
        return None
    r.keys(
        m,
        ("retain", "trialSpec", "configMap", "trialParameters", "primaryPodLabels", "primaryContainerName",
         "successCondition", "failureCondition", "goTemplate"),
        path,
    )
    trial_spec_raw = r.mapping(m.get("trialSpec"), f"{path}.trialSpec")
    trial_parameters = None
    tp_items = r.list(m.get("trialParameters"), f"{path}.trialParameters")
    if tp_items is not None:
        params = []
        for i, item in enumerate(tp_items):
            ipath = f"{path}.trialParameters[{i}]"
            pm = r.mapping(item, ipath)
            if pm is None:
                continue
            r.keys(pm, ("name", "reference", "description"), ipath)
            params.append(
                TrialParameterSpec(
                    name=r.string(pm, "name", ipath) or "",
                    reference=r.string(pm, "reference", ipath) or "",
                    description=r.string(pm, "description", ipath) or "",
                )
            )
        trial_parameters = tuple(params)
    go_template, go_spec = None, None
    if m.get("goTemplate") is not None:
        # Not a v1beta1 field: katibsim writes it when it shows a converted v1alpha3 experiment
        # as v1beta1, and reads it back so that round trip holds. Katib itself drops it.
        r.warn(
            f"{path}.goTemplate",
            "goTemplate is a v1alpha3 field that katibsim keeps when converting; Katib v1beta1 ignores it "
            "(rewrite it as trialSpec with trialParameters to run on Katib)",
        )
        go_template, go_spec = _read_go_template(r, m.get("goTemplate"), f"{path}.goTemplate")
    return TrialTemplate(
        retain=bool(r.boolean(m, "retain", path)),
        trial_spec=r.plain(trial_spec_raw, f"{path}.trialSpec") if trial_spec_raw is not None else None,
        config_map=_read_config_map(r, m.get("configMap"), f"{path}.configMap"),
        trial_parameters=trial_parameters,
        primary_pod_labels=r.string_map(m, "primaryPodLabels", path),
        primary_container_name=r.string(m, "primaryContainerName", path),
        success_condition=r.string(m, "successCondition", path),
        failure_condition=r.string(m, "failureCondition", path),
        go_template=go_template,
        go_template_spec=go_spec,
    )


def _read_go_template(r: _Reader, raw: Any, path: str) -> tuple[str | None, dict | None]:
    m = r.mapping(raw, path)
    if m is None:
        return None, None
    r.keys(m, ("rawTemplate", "templateSpec"), path)
    return r.string(m, "rawTemplate", path), _read_config_map(r, m.get("templateSpec"), f"{path}.templateSpec")


def _read_trial_template_v1alpha3(r: _Reader, raw: Any) -> TrialTemplate | None:
    path = "spec.trialTemplate"
    m = r.mapping(raw, path)
    if m is None:
        return None
    r.keys(m, ("retain", "goTemplate"), path)
    go_template, go_spec = _read_go_template(r, m.get("goTemplate"), f"{path}.goTemplate")
    return TrialTemplate(
        retain=bool(r.boolean(m, "retain", path)),
        go_template=go_template,
        go_template_spec=go_spec,
    )


def _read_collector(r: _Reader, raw: Any, *, file_format: bool) -> MetricsCollectorSpec | None:
    path = "spec.metricsCollectorSpec"
    m = r.mapping(raw, path)
    if m is None:
        return None
    r.keys(m, ("source", "collector"), path)
    source = r.mapping(m.get("source"), f"{path}.source") or {}
    spath = f"{path}.source"
    r.keys(source, ("httpGet", "fileSystemPath", "filter"), spath)
    fsp = None
    fs_raw = r.mapping(source.get("fileSystemPath"), f"{spath}.fileSystemPath")
    if fs_raw is not None:
        fpath = f"{spath}.fileSystemPath"
        r.keys(
            fs_raw, ("path", "kind", "format") if file_format else ("path", "kind"), fpath,
            extra=None if file_format else {"format": "v1alpha3 has no fileSystemPath.format; Katib ignores it"},
        )
        fsp = FileSystemPath(
            path=r.string(fs_raw, "path", fpath),
            kind=r.string(fs_raw, "kind", fpath),
            format=r.string(fs_raw, "format", fpath) if file_format else None,
        )
    metrics_format = None
    filt = r.mapping(source.get("filter"), f"{spath}.filter")
    if filt is not None:
        r.keys(filt, ("metricsFormat",), f"{spath}.filter")
        metrics_format = r.strings(filt, "metricsFormat", f"{spath}.filter") or ()
    http_get = None
    hg = r.mapping(source.get("httpGet"), f"{spath}.httpGet")
    if hg is not None:
        port = hg.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, (int, str))):
            r.error(f"{spath}.httpGet.port", f"expected a port number or name, got {_a(port)}", port)
        if hg.get("path") is not None and not isinstance(hg.get("path"), str):
            r.error(f"{spath}.httpGet.path", f"expected a string, got {_a(hg.get('path'))}", hg.get("path"))
        http_get = r.plain(hg, f"{spath}.httpGet")
        if isinstance(http_get, dict):
            if "port" in http_get and (isinstance(http_get["port"], bool) or not isinstance(http_get["port"], (int, str))):
                http_get.pop("port")
            if "path" in http_get and not isinstance(http_get["path"], str):
                http_get.pop("path")
    collector = r.mapping(m.get("collector"), f"{path}.collector")
    kind = "StdOut"  # Katib: a missing collector is StdOut (§1.2); the model has no "absent"
    custom = None
    if collector is not None:
        cpath = f"{path}.collector"
        r.keys(collector, ("kind", "customCollector"), cpath)
        kind = r.string(collector, "kind", cpath) or ""
        cc = r.mapping(collector.get("customCollector"), f"{cpath}.customCollector")
        if cc is not None:
            custom = r.plain(cc, f"{cpath}.customCollector")
    return MetricsCollectorSpec(
        kind=kind,
        file_system_path=fsp,
        metrics_format=metrics_format,
        http_get=http_get,
        custom_collector=custom,
    )
