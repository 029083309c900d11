"""``katibsim surrogate fit|predict``: fit a surrogate to real trials, say how good it is, use it.

``fit FILE``: reads the trials (any format the workload readers read), fits the mean model
(``--kind``), cross-validates it (``--folds``; ``--compare`` also the other candidate), prints the
quality, the region the trials cover, the trials used and skipped (and why), and writes the model
file with ``--model``. ``predict MODEL``: the mean and the central ``--level`` interval of a new
trial's value at each point given with ``--at NAME=VALUE,...`` (repeatable) or ``--points
FILE.csv`` (a header row of parameter names), in the order given.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter
from typing import Any, Mapping, Sequence

import numpy as np

from katibsim.errors import InputError

from .encoding import Encoding
from .quality import FOLDS, Quality, cross_validate
from .regressors import FITTERS
from .source import read_table, surrogate_for
from .surrogate import DEFAULT_KIND, Surrogate, fit_table, write_model

NAME = "surrogate"
HELP = "fit a surrogate of a real experiment to its trials (cross-validated), or predict with a fitted one"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="surrogate_command", metavar="fit|predict")
    fit = sub.add_parser("fit", help="fit the trials of FILE, print the cross-validated quality and the region",
                         description="Fit a surrogate to the trials in FILE and print its cross-validated quality.")
    fit.add_argument("file", metavar="FILE", help="trials: Katib Trial list, Experiment + trials, katibsim result, CSV/JSON table")
    fit.add_argument("--experiment", metavar="EXP", help="the Experiment (kubectl get experiment -o yaml), when FILE lacks it")
    fit.add_argument("--metric", metavar="M", help="the objective metric, where FILE has several")
    fit.add_argument("--direction", choices=("maximize", "minimize"), default=None,
                     help="the metric's direction, for trials that do not say it (a table without its Experiment)")
    fit.add_argument("--model", metavar="OUT.json", help="write the fitted model to this file")
    fit.add_argument("--kind", choices=tuple(FITTERS), default=DEFAULT_KIND, help=f"mean model (default {DEFAULT_KIND})")
    fit.add_argument("--folds", type=int, default=FOLDS, metavar="K",
                     help=f"cross-validation folds (default {FOLDS}; leave-one-out below that many trials; 0 = none)")
    fit.add_argument("--compare", action="store_true", help="also cross-validate the other candidate model")
    fit.add_argument("-o", "--output", choices=("table", "json"), default="table")
    fit.set_defaults(_surrogate=_fit)
    pred = sub.add_parser("predict", help="mean and interval of a new trial at given points",
                          description="Predict a new trial's value at given points with a fitted surrogate.")
    pred.add_argument("model", metavar="MODEL", help="a model file from `surrogate fit --model` (or a trials file, fitted now)")
    pred.add_argument("--at", action="append", default=[], metavar="NAME=VALUE,...",
                      help="one point (repeatable); names starting with dashes: --at=--lr=0.01,--batch=32")
    pred.add_argument("--points", metavar="FILE.csv", help="points, one per row, a header row of parameter names")
    pred.add_argument("--level", type=float, default=0.95, help="central interval probability (default 0.95)")
    pred.add_argument("-o", "--output", choices=("table", "json"), default="table")
    pred.set_defaults(_surrogate=_predict)
    parser.set_defaults(_surrogate=None, _surrogate_parser=parser)


def run(args: argparse.Namespace) -> int:
    if args._surrogate is None:
        args._surrogate_parser.print_help(sys.stderr)
        return 2
    return int(args._surrogate(args) or 0)


# -- fit ---------------------------------------------------------------------------------------------------


def _fit(args: argparse.Namespace) -> int:
    if args.folds < 0 or args.folds == 1:
        raise InputError(f"--folds {args.folds}: expected 0 (no cross-validation) or at least 2")
    table = read_table(args.file, args.experiment, args.metric, args.direction)
    surrogate = fit_table(table, args.kind)
    kinds = [args.kind] + ([k for k in FITTERS if k != args.kind] if args.compare else [])
    qualities = [cross_validate(surrogate.X, surrogate.y, k, folds=args.folds) for k in kinds] if args.folds else []
    if qualities:
        surrogate = _with_quality(surrogate, qualities[0])
    if args.model:
        write_model(surrogate, args.model)
    report = fit_report(surrogate, qualities, len(table.trials), args.model)
    if args.output == "json":
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(fit_text(report))
    return 0


def _with_quality(s: Surrogate, q: Quality) -> Surrogate:
    from dataclasses import replace

    return replace(s, quality=q.to_dict())


def _region(enc: Encoding) -> list[dict[str, Any]]:
    return [c.to_dict() for c in enc.columns]


def fit_report(s: Surrogate, qualities: Sequence[Quality], total: int, model_path: str | None) -> dict[str, Any]:
    direction = s.direction
    best = s.best(direction) if direction else None
    reasons = Counter(r for _, r in s.skipped)
    return {
        "source": s.source,
        "metric_name": s.metric_name,
        "direction": direction,
        "model": s.kind,
        "trials": {"total": total, "used": s.used, "skipped": len(s.skipped),
                   "skipped_by_reason": dict(reasons.most_common()),
                   "skipped_trials": [{"name": n, "reason": r} for n, r in s.skipped]},
        "region": _region(s.encoding),
        "quality": qualities[0].to_dict() if qualities else None,
        "candidates": [q.to_dict() for q in qualities],
        "noise_sd": s.noise_sd,
        "curve": None if s.curve is None else {"steps": len(s.curve.steps), "strategy": s.curve.strategy,
                                               "trials": len(s.curve.X)},
        "duration": None if s.duration is None else {"median_seconds": float(np.exp(np.median(s.duration.log_seconds))),
                                                     "trials": len(s.duration.X)},
        "other_metrics": [{"name": m.name, "direction": m.direction or None} for m in s.metrics],
        "optimum": None if best is None else {"value": best[0], "at": best[1]},
        "model_file": model_path,
    }


def _num(v: float) -> str:
    return f"{v:.6g}"


#: Below this held-out rank correlation a surrogate orders trials little better than chance.
WEAK_SPEARMAN = 0.3


def quality_warning(q: Mapping[str, Any]) -> str | None:
    """Why a cross-validated surrogate should not be relied on, or None: it ranks held-out trials
    no better than chance would, or its 95% interval holds far fewer of them than it should."""
    problems = []
    if not q["spearman"] >= WEAK_SPEARMAN:  # also NaN (constant predictions)
        problems.append(f"it ranks held-out trials poorly (Spearman {q['spearman']:.2f} < {WEAK_SPEARMAN})")
    if q["coverage95"] < 0.75:
        problems.append(f"its 95% interval holds only {q['coverage95']:.0%} of held-out trials")
    if not problems:
        return None
    return ("this surrogate is not a good stand-in for the job: " + "; ".join(problems)
            + "; more trials, or trials spread over the space, make it one")


def fit_text(r: Mapping[str, Any]) -> str:
    t = r["trials"]
    lines = [f"surrogate of {r['metric_name']} ({r['direction'] or 'direction unknown'}) from {r['source']}",
             f"trials: {t['used']} used, {t['skipped']} skipped of {t['total']}"]
    lines += [f"  skipped: {n} x {why}" for why, n in t["skipped_by_reason"].items()]
    lines.append("region the trials cover (predictions outside it are extrapolation):")
    width = max(len(c["name"]) for c in r["region"])
    for c in r["region"]:
        if c["kind"] == "categorical":
            lines.append(f"  {c['name']:<{width}}  categorical  {', '.join(c['values'])}")
        else:
            lines.append(f"  {c['name']:<{width}}  {c['kind']:<11}  {_num(c['low'])} .. {_num(c['high'])}"
                         + ("  (log scale)" if c["log"] else ""))
    if r["candidates"]:
        q0 = r["candidates"][0]
        lines.append(f"cross-validation ({q0['folds']} folds, each trial predicted by a model fitted without it):")
        lines.append("  model     spearman      rmse       mae  cover80  cover95")
        for q in r["candidates"]:
            mark = "*" if q["kind"] == r["model"] else " "
            lines.append(f"  {q['kind']:<7}{mark} {q['spearman']:9.3f} {q['rmse']:9.4g} {q['mae']:9.4g} "
                         f"{q['coverage80']:8.2f} {q['coverage95']:8.2f}")
        lines.append("  (cover80/95: share of held-out trials inside the 80%/95% predictive interval)")
        chosen = next((q for q in r["candidates"] if q["kind"] == r["model"]), q0)
        warning = quality_warning(chosen)
        if warning:
            lines.append(f"warning: {warning}")
    else:
        lines.append("cross-validation: not run (--folds 0)")
    lines.append(f"model: {r['model']}; trial-to-trial noise sd {_num(r['noise_sd'])}")
    c = r["curve"]
    lines.append(f"learning curves: {c['steps']} steps from {c['trials']} trials (metric strategy {c['strategy']})"
                 if c else "learning curves: none in the data (a simulated trial reports once)")
    d = r["duration"]
    lines.append(f"durations: median {_num(d['median_seconds'])} s from {d['trials']} trials"
                 if d else "durations: none in the data (a simulated trial takes 60 s)")
    if r["other_metrics"]:
        lines.append("other metrics (nearest trials' average): " + ", ".join(
            f"{m['name']} ({m['direction'] or 'direction unknown'})" for m in r["other_metrics"]))
    if r["optimum"]:
        at = ", ".join(f"{k}={_num(v) if isinstance(v, float) else v}" for k, v in r["optimum"]["at"].items())
        lines.append(f"best predicted mean {_num(r['optimum']['value'])} at {at} (approximate)")
    if r["model_file"]:
        lines.append(f"model written to {r['model_file']}")
    return "\n".join(lines) + "\n"


# -- predict -----------------------------------------------------------------------------------------------


def _value(enc: Encoding, name: str, raw: str, where: str) -> Any:
    col = next(c for c in enc.columns if c.name == name)
    if col.kind == "categorical":
        return raw
    try:
        v = float(raw)
    except ValueError:
        raise InputError(f"{where}: {name}: {raw!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"{where}: {name}: {raw!r} is not finite")
    # An int parameter given as a whole number stays an int (printed 64, not 64.0); 64.5 is
    # predicted as given, as the model is continuous in it.
    return int(v) if col.kind == "int" and v.is_integer() else v


def _check_names(enc: Encoding, names: Sequence[str], where: str) -> None:
    unknown = [n for n in names if n not in enc.names]
    if unknown:
        raise InputError(f"{where}: unknown parameter(s) {', '.join(unknown)}; the model's parameters: "
                         f"{', '.join(enc.names)}")
    missing = [n for n in enc.names if n not in names]
    if missing:
        raise InputError(f"{where}: missing parameter(s) {', '.join(missing)}; the model's parameters: "
                         f"{', '.join(enc.names)}")


def parse_at(enc: Encoding, text: str) -> dict[str, Any]:
    where = f"--at {text!r}"
    raw: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{where}: {item!r}: expected NAME=VALUE")
        if name.strip() in raw:
            raise InputError(f"{where}: {name.strip()} given twice")
        raw[name.strip()] = value.strip()
    _check_names(enc, list(raw), where)
    return {n: _value(enc, n, raw[n], where) for n in enc.names}


def read_points(enc: Encoding, path: str) -> list[dict[str, Any]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:  # -sig: a spreadsheet's byte-order mark
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); expected a CSV file of points") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a CSV file: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{path}: empty; expected a header row of parameter names and one row per point")
    header = [h.strip() for h in rows[0]]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError(f"{path}: header: column(s) {', '.join(twice)} given twice")
    _check_names(enc, header, f"{path}: header")
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{path}: row {i}: {len(row)} values for {len(header)} columns")
        cells = dict(zip(header, (c.strip() for c in row)))
        out.append({n: _value(enc, n, cells[n], f"{path}: row {i}, column") for n in enc.names})
    if not out:
        raise InputError(f"{path}: no points below the header row")
    return out


def _predict(args: argparse.Namespace) -> int:
    if not 0.0 < args.level < 1.0:
        raise InputError(f"--level {args.level}: expected a probability strictly between 0 and 1")
    if not args.at and not args.points:
        raise InputError("predict needs points: --at NAME=VALUE,... (repeatable) or --points FILE.csv")
    s = surrogate_for(args.model)
    points = [parse_at(s.encoding, a) for a in args.at]
    if args.points:
        points += read_points(s.encoding, args.points)
    mean, low, high = s.interval(points, args.level)
    rows = [{"at": p, "mean": float(m), "low": float(lo), "high": float(hi), "extrapolated": s.extrapolated(p)}
            for p, m, lo, hi in zip(points, mean, low, high)]
    if args.output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    names = list(s.encoding.names)
    pct = f"{args.level * 100:g}%"
    head = names + ["mean", f"low ({pct})", f"high ({pct})", "note"]
    body = [[str(_num(r["at"][n]) if isinstance(r["at"][n], float) else r["at"][n]) for n in names]
            + [_num(r["mean"]), _num(r["low"]), _num(r["high"]), "extrapolated" if r["extrapolated"] else ""]
            for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    for line in [head] + body:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n")
    sys.stdout.write(f"{s.metric_name}: mean and central {pct} interval of a new trial's value "
                     f"(model {s.kind} from {s.source})\n")
    return 0
