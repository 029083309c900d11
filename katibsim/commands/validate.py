"""``katibsim validate FILE...``: every problem of each Experiment file, as Katib's webhook would see it.

Exit 0 when every file is valid, 1 when some experiment is invalid (or a file holds none),
2 when a file cannot be read. Warnings never change the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from katibsim.errors import FieldError, InputError, KatibsimError, SpecError
from katibsim import plugins
from katibsim.plugins import validate_algorithm, validate_early_stopping
from katibsim.spec.loader import ExperimentDocument, load_file
from katibsim.spec.model import Experiment
from katibsim.spec.validation import merge_problems, validate

NAME = "validate"
HELP = "Check Katib Experiment files (YAML/JSON, v1beta1 or v1alpha3) against Katib's validation, offline."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="Experiment files (YAML or JSON); - reads standard input")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="text for people (default), json for machines")


@dataclass(frozen=True)
class ExperimentVerdict:
    where: str
    index: int
    name: str | None
    api_version: str | None
    problems: tuple[FieldError, ...]

    @property
    def errors(self) -> list[FieldError]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[FieldError]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class FileReport:
    file: str
    unreadable: str | None = None
    notes: tuple[str, ...] = ()
    problems: tuple[FieldError, ...] = ()  # problems of objects that are not experiments
    verdicts: tuple[ExperimentVerdict, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        if self.unreadable is not None:
            return "unreadable"
        if any(p.severity == "error" for p in self.problems) or not self.verdicts:
            return "invalid"
        return "valid" if all(v.valid for v in self.verdicts) else "invalid"


def check_file(path: str) -> FileReport:
    """Read, default and validate every Experiment of ``path`` (plugin checks included when present)."""
    try:
        result = load_file(path)
    except InputError as err:
        return FileReport(path, unreadable=str(err))
    in_documents = {id(p) for d in result.documents for p in d.problems}
    others = tuple(p for p in result.errors if id(p) not in in_documents)
    verdicts = []
    for doc in result.documents:
        try:
            problems = _document_problems(doc)
        except SpecError as err:
            problems = list(doc.problems) + err.errors
        except KatibsimError as err:  # a plugin that failed to load: the file cannot be judged
            return FileReport(path, unreadable=f"{path}: {err}")
        verdicts.append(
            ExperimentVerdict(doc.where, doc.index, doc.name, doc.api_version, tuple(_dedupe(problems)))
        )
    return FileReport(path, notes=result.notes, problems=others, verdicts=tuple(verdicts))


def _document_problems(doc: ExperimentDocument) -> list[FieldError]:
    if doc.experiment is None:
        return list(doc.problems)
    checks = validate(doc.experiment)
    if not any(p.severity == "error" for p in doc.problems):
        checks += _plugin_problems(doc.experiment)
    return merge_problems(doc.problems, checks)


def _plugin_problems(exp: Experiment) -> list[FieldError]:
    """Algorithm and early-stopping names and settings, as the plugin host judges them."""
    out: list[FieldError] = []
    spec = exp.spec
    checks = (
        (validate_algorithm, spec.algorithm is not None and bool(spec.algorithm.algorithm_name)),
        (validate_early_stopping, spec.early_stopping is not None and bool(spec.early_stopping.algorithm_name)),
    )
    for check, applies in checks:
        if not applies:
            continue
        try:
            found = list(check(exp) or [])
        except SpecError as err:
            found = err.errors
        out.extend(f if f.file is not None else _with_file(f, exp.source_file) for f in found)
    # An algorithm whose service also checks other parts of the Experiment (NAS: spec.nasConfig).
    cls = plugins.algorithms().get(spec.algorithm.algorithm_name) if spec.algorithm else None
    extra = getattr(cls, "validate_experiment", None)
    if callable(extra):
        out.extend(f if f.file is not None else _with_file(f, exp.source_file) for f in extra(exp))
    return out


def _with_file(f: FieldError, file: str | None) -> FieldError:
    from dataclasses import replace

    return replace(f, file=file)


def _dedupe(problems: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for p in problems:
        key = (p.path, p.message, p.severity)
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


# ------------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    reports = [check_file(f) for f in args.files]
    if args.output == "json":
        json.dump(to_json(reports), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(reports))
    return exit_code(reports)


def exit_code(reports: list[FileReport]) -> int:
    if any(r.status == "unreadable" for r in reports):
        return 2
    if any(r.status == "invalid" for r in reports):
        return 1
    return 0


def _short(api_version: str | None) -> str:
    return (api_version or "?").rsplit("/", 1)[-1]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def to_text(reports: list[FileReport]) -> str:
    lines: list[str] = []
    for r in reports:
        if r.unreadable is not None:
            lines.append(f"error: {r.unreadable}")
            continue
        for note in r.notes:
            lines.append(f"{r.file}: note: {note}")
        lines.extend(p.render() for p in r.problems)
        if not r.verdicts and not r.problems:
            lines.append(f"{r.file}: invalid: no Experiment found")
        several = len(r.verdicts) > 1 or bool(r.notes) or bool(r.problems)
        for v in r.verdicts:
            where = f"{v.where}: " if several else ""
            what = f"Experiment {v.name or '<no name>'}, {_short(v.api_version)}"
            if v.valid:
                extra = f", {_count(len(v.warnings), 'warning')}" if v.warnings else ""
                lines.append(f"{r.file}: {where}valid ({what}{extra})")
            else:
                counts = _count(len(v.errors), "error") + (f", {_count(len(v.warnings), 'warning')}" if v.warnings else "")
                lines.append(f"{r.file}: {where}invalid ({what}): {counts}")
            lines.extend("  " + p.render() for p in v.problems)
    if len(reports) > 1:
        by = {s: sum(1 for r in reports if r.status == s) for s in ("valid", "invalid", "unreadable")}
        parts = [f"{n} {s}" for s, n in by.items() if n]
        lines.append(f"{_count(len(reports), 'file')}: {', '.join(parts)}")
    return "\n".join(lines) + "\n"


def to_json(reports: list[FileReport]) -> dict[str, Any]:
    files = []
    for r in reports:
        files.append(
            {
                "file": r.file,
                "status": r.status,
                "error": r.unreadable,
                "notes": list(r.notes),
                "problems": [p.to_dict() for p in r.problems],
                "experiments": [
                    {
                        "document": v.index,
                        "where": v.where,
                        "name": v.name,
                        "apiVersion": v.api_version,
                        "valid": v.valid,
                        "errors": [p.to_dict() for p in v.errors],
                        "warnings": [p.to_dict() for p in v.warnings],
                    }
                    for v in r.verdicts
                ],
            }
        )
    return {"valid": exit_code(reports) == 0, "exitCode": exit_code(reports), "files": files}
