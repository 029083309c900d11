"""``katibsim simulate EXPERIMENT --objective NAME``: run an experiment on a simulated cluster.

The experiment's own algorithm (and early stopping) runs against a simulated objective with
Katib's controller semantics on a simulated clock. Output (``-o``):

* ``yaml`` (default) — what ``kubectl get experiment -o yaml`` and ``kubectl get suggestion -o
  yaml`` would show, then ``kubectl get trials`` and the run's notes as YAML comments;
* ``json`` — the same objects (every Trial in full) plus a ``simulation`` summary;
* ``table`` — a readable summary: each trial with its assignment, value, condition and simulated
  start and end, then the optimal trial and the notes.

When Katib's own suggestion service fails on the Experiment (a Katib-named plugin raised
``SuggestionServiceFailure``), the failure — the service's message, why, the fix — comes first:
a leading comment block (yaml, table) or the leading ``katib_failures`` field (json).

``--result FILE`` also writes the complete run result (JSON) for ``katibsim compare`` and friends.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from katibsim.commands._common import (add_mismatch_option, allowed_mismatches, comment, katib_objects, katib_yaml,
                                       load_valid_experiment, option_errors, pairs, warn_unreachable_goal)
from katibsim.errors import InputError

NAME = "simulate"
HELP = "Run an Experiment with its own algorithm against a simulated objective, on a simulated clock."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="EXPERIMENT", help="an Experiment file (YAML or JSON)")
    parser.add_argument("--objective", metavar="NAME", help="the simulated objective the trials evaluate (see `katibsim plugins`)")
    parser.add_argument("--objective-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the objective (e.g. noise=0.01); repeatable")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="the run's seed (default 0)")
    parser.add_argument("-o", "--output", choices=("yaml", "json", "table"), default="yaml", help="output format (default yaml)")
    parser.add_argument("--map", action="append", default=[], metavar="PARAM=INPUT[:TRANSFORM]",
                        help="map an experiment parameter onto an objective input, with optional unit transforms "
                             "(log10, ln, log2, exp, pow10, scale=F, offset=F); repeatable; write --map=--lr=x1 "
                             "when the parameter starts with dashes")
    parser.add_argument("--algorithm", metavar="NAME", help="run this algorithm instead of the experiment's own")
    parser.add_argument("--algorithm-setting", action="append", default=[], metavar="KEY=VALUE",
                        help="an algorithm setting, replacing the experiment's settings; repeatable")
    parser.add_argument("--sim-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a simulation option: startup_delay, suggestion_startup_delay, failure_probability, "
                             "crash_after_steps, metrics_unavailable_probability, katib_compat, "
                             "unbounded_trial_limit, start_time; repeatable")
    parser.add_argument("--corrected", action="store_true",
                        help="correct Katib's known defects instead of reproducing them (katib_compat=false)")
    add_mismatch_option(parser)
    parser.add_argument("--trial-objects", action="store_true", help="with -o yaml, also print every Trial object")
    parser.add_argument("--result", metavar="FILE", help="also write the complete run result as JSON to FILE")
    from katibsim.scenario.work import DEFAULT_MAX_WORK

    parser.add_argument("--max-work", type=int, default=DEFAULT_MAX_WORK, metavar="N",
                        help=f"refuse to start when the run may create more than N trials (default {DEFAULT_MAX_WORK:,})")
    parser.add_argument("--no-limit", action="store_true", help="no limit on the trials (see --max-work)")
    parser.add_argument("--suggestion-service", metavar="HOST:PORT",
                        help="ask the Katib suggestion service at HOST:PORT (gRPC, e.g. `katibsim serve`) for the "
                             "assignments instead of running the algorithm in process (docs/serve.md)")
    parser.add_argument("--suggestion-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="with --suggestion-service: the deadline of every call (default 60, Katib's)")


def _declared_objective(path: str) -> str | None:
    """An ``Objective: <name>`` line in the file's leading comments (the examples' convention)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = re.search(r"Objective:\s*([A-Za-z0-9][\w.-]*)", line)
        if m:
            name = m.group(1).rstrip(".")
            return None if name.lower() == "none" else name
    return None


def _norm(name: str) -> str:
    return name.lstrip("-").replace("-", "_").lower()


def suggest_objectives(experiment, path: str | None = None) -> tuple[list[tuple[str, list[str]]], str | None, str | None]:
    """Registered objectives ranked by how well they fit ``experiment``, each with its reasons
    (the file names it, same metric name, inputs named like the parameters, as many inputs), the
    objective the file names (an ``Objective: <name>`` comment) and why that one cannot be built."""
    from katibsim import plugins

    declared = _declared_objective(path) if path else None
    declared_error = None
    params = {_norm(p.name) for p in experiment.spec.parameters}
    metric = experiment.spec.objective.objective_metric_name if experiment.spec.objective else None
    scored: list[tuple[int, str, list[str]]] = []
    for name in plugins.objectives():
        reasons: list[str] = []
        score = 0
        if name == declared:
            score += 10
            reasons.append("the file names it")
        try:
            obj = plugins.get_objective(name)
        except Exception as exc:  # noqa: BLE001 - a ranking must not fail because one objective cannot be built
            if name == declared:
                declared_error = str(exc)
            continue
        inputs = {_norm(i.name) for i in obj.inputs}
        if metric and obj.metric_name == metric:
            score += 4
            reasons.append(f"it reports {metric}")
        if inputs and inputs == params:
            score += 3
            reasons.append("its inputs are named like the parameters")
        elif len(obj.inputs) == len(params):
            score += 1
            reasons.append(f"it has {len(params)} input{'' if len(params) == 1 else 's'}, mapped by order")
        if score:
            scored.append((score, name, reasons))
    if declared and declared not in plugins.objectives():
        declared_error = "no plugin provides it"
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [(n, r) for _, n, r in scored], declared, declared_error


def _missing_objective(args, experiment) -> InputError:
    from katibsim import plugins

    ranked, declared, declared_error = suggest_objectives(experiment, args.file)
    known = ", ".join(sorted(plugins.objectives())) or "(none registered)"
    metric = experiment.spec.objective.objective_metric_name if experiment.spec.objective else "?"
    params = ", ".join(p.name for p in experiment.spec.parameters)
    lines = [f"{args.file}: simulate needs an objective for the trials to evaluate: --objective NAME"]
    if declared and declared_error:
        lines.append(f"  the file names objective {declared}, but it cannot be used: {declared_error}")
    strong = [(n, r) for n, r in ranked if len(r) > 1 or not r[0].endswith("mapped by order")]
    weak = [n for n, r in ranked if (n, r) not in strong]
    if strong:
        name, reasons = strong[0]
        lines.append(f"  this experiment needs: --objective {name} ({'; '.join(reasons)})")
        others = [n for n, _ in strong[1:4]]
        if others:
            lines.append(f"  other candidates: {', '.join(others)}")
    elif weak:
        lines.append(f"  no objective reports {metric} or takes the parameters {params}; objectives with as many "
                     f"inputs (mapped by order, or use --map PARAM=INPUT): {', '.join(weak[:5])}")
    else:
        lines.append(f"  no registered objective reports {metric} or takes the parameters {params}; pick one and map "
                     "the parameters with --map PARAM=INPUT")
    lines.append(f"  known objectives: {known}")
    return InputError("\n".join(lines))


def run(args: argparse.Namespace) -> int:
    from katibsim.engine import status
    from katibsim.engine.options import SimulationOptions
    from katibsim.engine.run import fit_objective, simulate

    experiment = load_valid_experiment(args.file)
    if not args.objective:
        raise _missing_objective(args, experiment)
    sim_options = pairs(args.sim_option, "--sim-option")
    if args.corrected:
        sim_options["katib_compat"] = "false"
    with option_errors("--sim-option"):
        options = SimulationOptions.from_dict(sim_options)
    _check_work(args, experiment, options)
    objective_options = pairs(args.objective_option, "--objective-option")
    settings = pairs(args.algorithm_setting, "--algorithm-setting") if args.algorithm_setting else None
    with option_errors("--objective"):
        objective, objective_options, notes = fit_objective(experiment, args.objective, objective_options, args.map or None)
    allow = allowed_mismatches(args.allow_objective_mismatch)
    warn_unreachable_goal(experiment, objective)
    algorithm = args.algorithm
    if args.suggestion_service:
        try:
            from katibsim.service.client import remote_algorithm
        except ImportError as exc:
            raise InputError(f"--suggestion-service needs the grpc extra: pip install 'katibsim[grpc]' ({exc})") from None
        algorithm, notes = remote_algorithm(experiment, args.suggestion_service, seed=args.seed, algorithm=args.algorithm,
                                            settings=settings, timeout=args.suggestion_timeout, notes=notes)
        settings = None
    result = simulate(
        experiment,
        objective,
        seed=args.seed,
        options=options,
        mapping=args.map or None,
        algorithm=algorithm,
        algorithm_settings=settings,
        objective_options=objective_options,
        validate=False,
        notes=notes,
        allow_mismatch=allow,
    )
    if args.result:
        try:
            Path(args.result).write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write --result {args.result}: {exc}") from None
    out = sys.stdout
    if args.output == "json":
        out.write(json.dumps(_json(result, experiment), indent=2) + "\n")
        return 0
    if result.katib_failures:  # first thing the reader sees: nothing else in the output makes sense without it
        out.write(comment(failure_block(result)) + "\n")
    if args.output == "table":
        out.write(status.summary_table(result) + "\n")
        if result.extrapolated_trials:
            out.write(extrapolation_line(result) + "\n")
    else:
        out.write(katib_yaml(result, experiment, trial_objects=args.trial_objects))
        out.write(comment(_simulation_lines(result)))
    return 0


def _check_work(args, experiment, options) -> None:
    """Refuse a run bigger than --max-work before it starts; announce a big one on a terminal."""
    from katibsim.scenario.work import refusal, single_run

    if args.max_work < 1:
        raise InputError("--max-work must be at least 1 (or use --no-limit)")
    work = single_run(experiment.spec.max_trial_count, unbounded_limit=options.unbounded_trial_limit, file=args.file)
    refused = None if args.no_limit else refusal([work], args.max_work)
    if refused is not None:
        raise InputError(refused.render())
    if work.trials > 10_000 and sys.stderr.isatty():
        print(f"simulating up to {work.trials:,} trials (seed {args.seed})...", file=sys.stderr, flush=True)


def failure_block(result) -> str:
    """The Katib service failures of a run, in words: what Katib's service says, why, the fix."""
    from katibsim.engine.status import clock

    n = len(result.katib_failures)
    lines = [f"KATIB SUGGESTION SERVICE FAILURE ({n}): Katib's own {result.algorithm} service fails on this "
             "Experiment; Katib creates no trial, keeps the Experiment Running and retries on every reconcile"]
    for f in result.katib_failures:
        lines += [
            f"- at {clock(f.time)}, after {f.trials} trial(s), {f.attempts} attempt(s): {f.message}",
            f"  why: {f.why}",
            f"  fix: {f.fix}",
        ]
    return "\n".join(lines)


def _simulation_lines(result) -> str:
    from katibsim.engine.status import clock

    lines = [
        f"simulation: seed {result.seed}, objective {result.objective}, algorithm {result.algorithm}; "
        f"{result.outcome} ({result.reason})",
        f"time to goal {clock(result.time_to_goal)}, to the end {clock(result.time_to_end)}, last trial ended "
        f"{clock(result.last_trial_end)}; at most {result.max_concurrent} trials running at once; "
        f"{result.duplicates} duplicate suggestion{'' if result.duplicates == 1 else 's'}",
    ]
    lines += [f"note [{n.code}]: {n.message}" for n in result.notes]
    if result.extrapolated_trials:
        lines.append(extrapolation_line(result))
    return "\n" + "\n".join(lines)


def extrapolation_line(result) -> str:
    """How many trials rest on extrapolation (an objective fitted to data, asked outside its region)."""
    return (f"note [extrapolated]: {result.extrapolated_trials} of {len(result.trials)} trials were suggested "
            f"outside the region the trials cover")


def _json(result, experiment) -> dict[str, Any]:
    return {
        "katib_failures": [f.to_dict() for f in result.katib_failures],
        **katib_objects(result, experiment),
        "simulation": {
            "seed": result.seed,
            "objective": result.objective,
            "algorithm": result.algorithm,
            "outcome": result.outcome,
            "reason": result.reason,
            "time_to_goal": result.time_to_goal,
            "time_to_end": result.time_to_end,
            "last_trial_end": result.last_trial_end,
            "max_concurrent": result.max_concurrent,
            "duplicates": result.duplicates,
            "notes": [n.to_dict() for n in result.notes],
            **({"extrapolated_trials": result.extrapolated_trials} if result.extrapolated_trials else {}),
        },
    }
