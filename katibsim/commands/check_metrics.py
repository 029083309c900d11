"""``katibsim check-metrics``: which metrics Katib would collect from a log, and why each line counts or not.

Exit 0 when the objective metric is collected with a numeric value, 1 when it is not (the trial
would be MetricsUnavailable, or Katib's collector would fail and report nothing), 2 on bad input.
"""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

from katibsim.collectors import DEFAULT_FILTER, CollectionResult, Explanation, collect, file_format
from katibsim.collectors.collect import FILE, MAX_EXPLANATIONS, READ_CHUNK, STDOUT, TFEVENT, collect_chunks
from katibsim.errors import InputError, SpecError
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

NAME = "check-metrics"
HELP = "Explain which metrics Katib's collector would take from a log file or an event directory, line by line."

EPILOG = """examples:
  katibsim check-metrics --collector StdOut --metric accuracy --metric loss train.log
  katibsim check-metrics --collector File --format JSON --metric accuracy metrics.json
  katibsim check-metrics --collector StdOut --filter '([\\w|-]+)\\s*:\\s*([+-]?\\d*(\\.\\d+)?)' --metric accuracy train.log
  katibsim check-metrics --experiment examples/tfjob-bayesian.yaml runs/trial-1/train
exit status: 0 objective collected, 1 objective not collected (MetricsUnavailable), 2 bad input"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--experiment", metavar="FILE", help="take the collector and the metric names from this Experiment")
    source.add_argument("--collector", choices=(STDOUT, FILE, TFEVENT), help="the collector kind (without --experiment)")
    parser.add_argument("--format", choices=("TEXT", "JSON"), help="File collector format (default TEXT)")
    parser.add_argument(
        "--filter", action="append", default=None, metavar="REGEX",
        help="a metricsFormat filter (Go regexp, group 1 = name, group 2 = value); repeatable; replaces the default",
    )
    parser.add_argument(
        "--metric", action="append", default=None, metavar="NAME",
        help="a metric name; the first is the objective; repeatable (without --experiment)",
    )
    parser.add_argument("log", metavar="LOG_OR_DIR", help="the trial's log or metrics file, or its event directory; - reads stdin")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="text for people (default), json for machines")
    parser.add_argument("--all", action="store_true", help="also list the lines that mention no metric")


def _from_experiment(path: str) -> tuple[MetricsCollectorSpec, list[str], list[str]]:
    from katibsim.spec.loader import load_experiment

    try:
        exp = load_experiment(path)
    except SpecError as err:
        # A file check-metrics cannot read is bad input here, whatever validate would say.
        raise InputError(f"cannot read the experiment:\n{err}") from None
    notes: list[str] = []
    objective = exp.spec.objective
    if objective is None or not objective.objective_metric_name:
        raise InputError(f"{path}: spec.objective.objectiveMetricName is required")
    names = [objective.objective_metric_name, *objective.additional_metric_names]
    spec = exp.spec.metrics_collector_spec or MetricsCollectorSpec()
    if exp.source_api_version != exp.api_version:
        notes.append(
            f"{path} is {exp.source_api_version}; katibsim applies Katib v1beta1's collectors (v1alpha3's TensorFlowEvent "
            "collector matched the whole tag and read only simple values; its default filter had no exponent)"
        )
    return spec, names, notes


def _from_flags(args: argparse.Namespace) -> tuple[MetricsCollectorSpec, list[str], list[str]]:
    if not args.metric:
        raise InputError("--metric NAME is required with --collector (the first one is the objective)")
    if args.format and args.collector != FILE:
        raise InputError(f"--format applies to the File collector only ({args.collector} is {'TEXT' if args.collector == STDOUT else 'event files'})")
    notes: list[str] = []
    if args.filter and args.collector == TFEVENT:
        notes.append("the TensorFlowEvent collector ignores filters")
    fsp = None
    if args.collector == FILE:
        fsp = FileSystemPath(kind="File", format=args.format or "TEXT")
    elif args.collector == TFEVENT:
        fsp = FileSystemPath(kind="Directory")
    spec = MetricsCollectorSpec(kind=args.collector, file_system_path=fsp, metrics_format=tuple(args.filter) if args.filter else None)
    return spec, list(args.metric), notes


def run(args: argparse.Namespace) -> int:
    if args.experiment:
        if args.metric or args.filter or args.format:
            raise InputError("--metric, --filter and --format come from the experiment when --experiment is given")
        spec, names, notes = _from_experiment(args.experiment)
    else:
        spec, names, notes = _from_flags(args)
    if len(set(names)) != len(names):
        raise InputError(f"metric names must differ: {', '.join(names)}")

    if args.log == "-":
        if spec.kind == TFEVENT:
            raise InputError("the TensorFlowEvent collector reads a directory, not standard input")
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        chunks = (decoder.decode(b) for b in iter(lambda: sys.stdin.buffer.read(READ_CHUNK), b""))
        result = collect_chunks(spec, names, _then_flush(chunks, decoder), all_lines=args.all)
    else:
        path = Path(args.log)
        if not path.exists():
            raise InputError(f"{args.log}: no such file or directory")
        if spec.kind != TFEVENT and path.is_dir():
            raise InputError(f"{args.log} is a directory; the {spec.kind} collector reads one file")
        if not path.is_dir() and not path.is_file():
            raise InputError(
                f"{args.log}: not a regular file (a named pipe, a device or a socket); check-metrics reads regular "
                "files, or standard input with -"
            )
        result = collect(spec, names, path=path, all_lines=args.all)
    code = 0 if result.objective_collected else 1
    if args.output == "json":
        print(json.dumps(_as_json(result, spec, args.log, notes, code), indent=2))
    else:
        sys.stdout.write(render_text(result, spec, args.log, notes, show_all=args.all))
    return code


def _then_flush(chunks: Iterator[str], decoder: codecs.IncrementalDecoder) -> Iterator[str]:
    yield from chunks
    yield decoder.decode(b"", final=True)


def describe_collector(spec: MetricsCollectorSpec) -> str:
    if spec.kind == TFEVENT:
        return "TensorFlowEvent collector (event files, tags matched by prefix)"
    fmt = file_format(spec)
    head = f"{spec.kind} collector ({fmt})"
    if fmt == "JSON":
        return head + ", string values only"
    if spec.metrics_format:
        return head + ", filters " + "; ".join(spec.metrics_format)
    return head + f", default filter {DEFAULT_FILTER}"


def verdict(result: CollectionResult) -> str:
    objective = result.objective
    if result.collector_error:
        return f"objective '{objective}' not collected: {result.collector_error}"
    raw = result.raw(objective)
    if result.condition_hint == "MetricsUnavailable":
        return f"objective '{objective}' never reported → the trial would be MetricsUnavailable"
    if result.objective_collected and raw is not None:
        return f"objective '{objective}' collected: min {raw.min}, max {raw.max}, latest {raw.latest}"
    latest = raw.latest if raw else "?"
    return f"objective '{objective}' has no numeric value (latest {latest!r}): Katib cannot rank this trial"


def _taken_text(e: Explanation) -> str:
    if len(e.taken) <= 4:
        return ", ".join(f"{log.name}={log.value}" for log in e.taken)
    by_name: dict[str, list] = {}
    for log in e.taken:
        by_name.setdefault(log.name, []).append(log)
    parts = []
    for name, logs in by_name.items():
        last = logs[-1]
        step = f" at step {last.step}" if last.step is not None else ""
        parts.append(f"{name} ×{len(logs)} (last {last.value}{step})")
    return ", ".join(parts)


def render_explanation(e: Explanation) -> list[str]:
    head = f"{e.where}: '{e.text}'" if e.text else e.where
    if e.line is None and e.text:
        head = f"{e.where} — {e.text}"
    if e.taken:
        lines = [f"{head} — taken: {_taken_text(e)}"]
        rest: Sequence[str] = e.reasons
    else:
        lines = [f"{head} — {e.reasons[0] if e.reasons else 'not taken'}"]
        rest = e.reasons[1:]
    lines.extend(f"    {r}" for r in rest)
    return lines


def render_text(
    result: CollectionResult, spec: MetricsCollectorSpec, source: str, notes: Sequence[str] = (), *, show_all: bool = False
) -> str:
    out: list[str] = []
    out.append(f"collector: {describe_collector(spec)}")
    names = result.metric_names
    out.append("metrics:   " + ", ".join([f"{names[0]} (objective)", *names[1:]]))
    relevant = [e for e in result.explanations if e.relevant or show_all]
    hidden = len(result.explanations) - len(relevant) + result.lines_not_shown
    unit = ("file or tag", "files or tags") if spec.kind == TFEVENT else ("line", "lines")
    if hidden:
        source += f" ({hidden} {unit[hidden != 1]} with no metric in sight not shown; --all shows them)"
    out.append(f"source:    {source}")
    for note in notes:
        out.append(f"note:      {note}")
    out.append("")
    if relevant:
        for e in relevant:
            out.extend(render_explanation(e))
    else:
        out.append("nothing in the input mentions a metric")
    if result.explanations_cut:
        out.append(
            f"... and {result.explanations_cut} more {unit[result.explanations_cut != 1]} not shown "
            f"(check-metrics explains the first {MAX_EXPLANATIONS}; every line was collected)"
        )
    if result.warnings:
        out.append("")
        out.append("warnings:")
        out.extend(f"  - {w}" for w in result.warnings)
    if result.reported:
        out.append("")
        out.append("observation Katib would record:")
        width = max(len(m.name) for m in result.raw_metrics)
        for m in result.raw_metrics:
            out.append(f"  {m.name:<{width}}  min={m.min}  max={m.max}  latest={m.latest}")
    out.append("")
    out.append(f"verdict: {verdict(result)}")
    return "\n".join(out) + "\n"


def _as_json(result: CollectionResult, spec: MetricsCollectorSpec, source: str, notes: Sequence[str], code: int) -> dict[str, Any]:
    data = result.to_dict()
    data["collector"] = {
        "kind": spec.kind,
        "format": None if spec.kind == TFEVENT else file_format(spec),
        "filters": list(spec.metrics_format) if spec.metrics_format else None,
        "default_filter": DEFAULT_FILTER if file_format(spec) == "TEXT" and spec.kind != TFEVENT and not spec.metrics_format else None,
    }
    data["source"] = source
    data["notes"] = list(notes)
    data["verdict"] = verdict(result)
    data["exit_code"] = code
    return data
