"""``katibsim run EXPERIMENT --backend local``: run an Experiment's real trials on this machine.

Each trial's rendered template becomes a local process (the primary container's command and
args, with ``--map`` turning images and in-image paths into local ones, see ``docs/local.md``),
at most ``parallelTrialCount`` at once, on real time, with Katib's collectors reading the output.
Everything goes into ``--out`` (default ``runs/<experiment>-<time>``): ``run.json`` (what was run),
``trials/<name>/`` (each trial's working directory: ``output.log``, ``command.json``,
``trial.json``, the collector's folder) and ``result.json`` (the run result, also when
interrupted). Ctrl-C stops every trial's process group; ``--resume --out DIR`` continues, re-using
the trials that finished.

The output (``-o``) is what ``katibsim simulate`` prints — the Experiment and Suggestion as Katib
would show them, ``kubectl get trials`` — plus, for each failed or MetricsUnavailable trial, its
reason and the last lines it printed. ``--backend sim`` runs ``simulate`` instead (it needs
``--objective``; ``--map`` then maps parameters onto the objective's inputs). Exit status: 0 when
the run ended, 130 / 143 / 129 when SIGINT / SIGTERM / SIGHUP interrupted it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from katibsim.commands._common import (add_mismatch_option, allowed_mismatches, comment, katib_objects, katib_yaml,
                                       load_valid_experiment, option_errors, pairs, warn_unreachable_goal)
from katibsim.errors import InputError, KatibsimError

NAME = "run"
HELP = "Run an Experiment's real trials as local processes (--backend local), or simulate it (--backend sim)."

RUN_FILE = "run.json"
RESULT_FILE = "result.json"
SHOWN_LINES = 10


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="EXPERIMENT", help="an Experiment file (YAML or JSON)")
    parser.add_argument("--backend", default="local", metavar="NAME",
                        help="where trials run: local (default: processes on this machine), sim, or another registered backend")
    parser.add_argument("--map", action="append", default=[], metavar="IMAGE_OR_PATH=LOCAL",
                        help="local backend: run IMAGE's entrypoint as the local command LOCAL, or use the local path LOCAL "
                             "(relative to the current directory; @trial: inside the trial's folder) for an absolute path "
                             "in the command; repeatable; adds to the Experiment's katibsim.io/local-map annotation")
    parser.add_argument("--timeout", type=float, metavar="S", help="local backend: stop a trial after S seconds (Failed, DeadlineExceeded)")
    parser.add_argument("--out", metavar="DIR", help="the run's folder (default runs/<experiment>-<date>-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --out, re-using its finished trials")
    parser.add_argument("--seed", type=int, metavar="N", help="the run's seed (default 0; --resume keeps the run's own)")
    parser.add_argument("--algorithm", metavar="NAME", help="run this algorithm instead of the experiment's own")
    parser.add_argument("--algorithm-setting", action="append", default=[], metavar="KEY=VALUE",
                        help="an algorithm setting, replacing the experiment's settings; repeatable")
    parser.add_argument("--objective", metavar="NAME", help="sim backend: the simulated objective")
    parser.add_argument("--objective-option", action="append", default=[], metavar="KEY=VALUE",
                        help="sim backend: an option of the objective; repeatable")
    add_mismatch_option(parser)
    parser.add_argument("-o", "--output", choices=("yaml", "json", "table"), default="yaml", help="output format (default yaml)")
    parser.add_argument("--trial-objects", action="store_true", help="with -o yaml, also print every Trial object")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not report trials as they start and end (stderr)")


def experiment_digest(experiment) -> str:
    """What must not change between a run and its resumption: name, namespace and spec."""
    from katibsim.spec.serialize import experiment_to_dict

    d = experiment_to_dict(experiment, "kubeflow.org/v1beta1")
    key = {"name": experiment.name, "namespace": experiment.namespace, "spec": d.get("spec")}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _default_out(experiment) -> Path:
    return Path("runs") / f"{experiment.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _prepare_out(args, experiment, algorithm_settings) -> tuple[Path, int]:
    """The run's folder and seed; checks a resumed run is the same experiment, seed and algorithm."""
    if args.resume and not args.out:
        raise InputError("--resume needs the interrupted run's folder: --out DIR")
    out = Path(args.out) if args.out else _default_out(experiment)
    run_file = out / RUN_FILE
    want = {
        "experiment": experiment.name,
        "experiment_file": str(args.file),
        "experiment_digest": experiment_digest(experiment),
        "algorithm": args.algorithm,
        "algorithm_settings": algorithm_settings,
        "backend": args.backend,
    }
    if args.resume:
        if not run_file.is_file():
            raise InputError(f"{out}: no {RUN_FILE} here, so there is no run to resume")
        try:
            have = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{run_file}: cannot read it ({exc})") from None
        for key in ("experiment_digest", "algorithm", "algorithm_settings", "backend"):
            if have.get(key) != want[key]:
                what = "the Experiment (name, namespace or spec)" if key == "experiment_digest" else key.replace("_", " ")
                raise InputError(f"{out}: cannot resume: {what} changed since the run started "
                                 f"({have.get(key)!r} then, {want[key]!r} now); start a new run with another --out")
        seed = int(have.get("seed", 0))
        if args.seed is not None and args.seed != seed:
            raise InputError(f"{out}: cannot resume with --seed {args.seed}: the run used seed {seed} (trial names and "
                             "suggestions follow the seed)")
        return out, seed
    if run_file.exists():
        raise InputError(f"{out} already holds a run; continue it with --resume, or choose another --out")
    seed = 0 if args.seed is None else args.seed
    out.mkdir(parents=True, exist_ok=True)
    from katibsim.backends.records import write_json_atomic

    write_json_atomic(run_file, {**want, "seed": seed, "map": list(args.map), "timeout": args.timeout,
                                 "created": datetime.now().isoformat(timespec="seconds")})
    return out, seed


def _progress(start: float):
    def report(kind: str, name: str, text: str) -> None:
        verb = {"start": "started", "reuse": "re-used", "end": "ended"}.get(kind, kind)
        print(f"[{time.monotonic() - start:7.1f}s] {name} {verb}: {text}", file=sys.stderr, flush=True)

    return report


def run(args: argparse.Namespace) -> int:
    experiment = load_valid_experiment(args.file)
    settings = pairs(args.algorithm_setting, "--algorithm-setting") if args.algorithm_setting else None
    if args.backend == "sim":
        return _run_sim(args, experiment, settings)
    if args.objective or args.objective_option or args.allow_objective_mismatch:
        raise InputError("--objective, --objective-option and --allow-objective-mismatch are for --backend sim; "
                         "a local run trains for real")

    from katibsim import plugins
    from katibsim.backends.execute import execute

    with option_errors("--backend"):
        entry = plugins.get_backend(args.backend)
    out, seed = _prepare_out(args, experiment, settings)
    started = time.monotonic()
    progress = None if args.quiet else _progress(started)
    if args.backend == "local":
        backend = entry.factory(out_dir=out, mapping=args.map, timeout=args.timeout, resume=args.resume,
                                progress=progress)
    else:
        if args.map or args.timeout is not None:
            raise InputError(f"--map and --timeout are options of the local backend, not of {args.backend}")
        backend = entry.factory()
    try:
        result = execute(experiment, backend, seed=seed, algorithm=args.algorithm, algorithm_settings=settings,
                         output_dir=out, validate=False)
    except KatibsimError:
        if not args.resume:
            _forget(out)  # refused before any trial (an unmapped path): the folder holds no run
        raise
    except KeyboardInterrupt:  # Ctrl-C before the backend took over signals (trials are stopped by then)
        print(f"interrupted: continue with: katibsim run {args.file} --backend {args.backend} --out {out} --resume",
              file=sys.stderr)
        return 130
    wall = time.monotonic() - started
    from katibsim.backends.records import write_json_atomic

    write_json_atomic(out / RESULT_FILE, result.to_dict())
    _print(args, experiment, result, out=out, wall=wall)
    if backend.interrupted:
        print(f"interrupted: continue with: katibsim run {args.file} --backend {args.backend} --out {out} --resume",
              file=sys.stderr)
        signum = getattr(getattr(backend, "guard", None), "signum", None) or signal.SIGINT
        return 128 + int(signum)
    return 0


def _forget(out: Path) -> None:
    trials = out / "trials"
    if trials.is_dir() and any(trials.iterdir()):
        return
    for p in (out / RUN_FILE, trials):
        try:
            p.rmdir() if p.is_dir() else p.unlink()
        except OSError:
            pass
    try:
        out.rmdir()
    except OSError:
        pass


def _run_sim(args, experiment, settings) -> int:
    from katibsim.commands.simulate import _missing_objective
    from katibsim.engine.run import simulate

    if not args.objective:
        raise _missing_objective(args, experiment)
    if args.timeout is not None or args.resume or args.out:
        raise InputError("--timeout, --out and --resume are for real backends; --backend sim runs on a simulated clock")
    from katibsim import plugins

    allow = allowed_mismatches(args.allow_objective_mismatch)
    objective_options = pairs(args.objective_option, "--objective-option")
    objective = plugins.get_objective(args.objective, **objective_options)
    warn_unreachable_goal(experiment, objective)
    result = simulate(experiment, objective, seed=args.seed or 0, mapping=args.map or None,
                      algorithm=args.algorithm, algorithm_settings=settings,
                      objective_options=objective_options, validate=False, allow_mismatch=allow)
    _print(args, experiment, result, out=None, wall=None)
    return 0


# -- output -----------------------------------------------------------------------------------------------
def failure_lines(result, shown: int = SHOWN_LINES) -> list[str]:
    """For every Failed or MetricsUnavailable trial: its reason and message and the last lines it
    printed (what `kubectl logs` would have shown), so a failure is explained where it is seen."""
    lines: list[str] = []
    for t in result.trials:
        if t.condition not in ("Failed", "MetricsUnavailable"):
            continue
        lines.append(f"trial {t.name} {t.condition}: {t.reason} — {t.message}")
        if t.output_tail:
            tail = t.output_tail[-shown:]
            where = f" of {t.output_path}" if t.output_path else ""
            lines.append(f"  last {len(tail)} line(s){where}:")
            lines += [f"  | {line}" for line in tail]
        elif t.output_path:
            lines.append(f"  it printed nothing ({t.output_path})")
    return lines


def _run_lines(result, out: Path | None, wall: float | None) -> list[str]:
    from katibsim.engine.status import clock

    best = result.best_trial
    head = f"run: backend {result.backend}, algorithm {result.algorithm}, seed {result.seed}; {result.outcome} ({result.reason})"
    lines = [head]
    if wall is not None:
        lines.append(f"wall time {wall:.1f} s; at most {result.max_concurrent} trials running at once; "
                     f"last trial ended at {clock(result.last_trial_end)}")
    if best is not None and best.value is not None:
        lines.append(f"best trial {best.name}: {', '.join(f'{k}={v}' for k, v in best.assignment)} -> "
                     f"{result.metric_name} = {best.value:.6g}")
    if out is not None:
        lines.append(f"files: {out} (trials/<name>/output.log, command.json, trial.json; result.json)")
    if result.mapping:
        lines.append(f"mapping: {result.mapping}")
    lines += [f"note [{n.code}]: {n.message}" for n in result.notes]
    return lines


def _print(args, experiment, result, *, out: Path | None, wall: float | None) -> None:
    from katibsim.engine import status

    failures = failure_lines(result)
    stream = sys.stdout
    if args.output == "table":
        table = status.summary_table(result)
        if result.backend != "sim":  # the summary is written for simulations
            table = table.replace(", objective ?,", f", real trials on the {result.backend} backend,", 1)
            table = table.replace("— simulated start", "— started", 1)
        stream.write(table + "\n\n" + "\n".join(_run_lines(result, out, wall)) + "\n")
        if failures:
            stream.write("\nFailures:\n" + "\n".join(failures) + "\n")
    elif args.output == "json":
        data: dict[str, Any] = {
            **katib_objects(result, experiment),
            "run": {
                "backend": result.backend, "seed": result.seed, "algorithm": result.algorithm,
                "outcome": result.outcome, "reason": result.reason, "wall_seconds": wall,
                "out": None if out is None else str(out), "max_concurrent": result.max_concurrent,
                "best_trial": None if result.best_trial is None else result.best_trial.name,
                "notes": [n.to_dict() for n in result.notes],
                "failures": [{"trial": t.name, "condition": t.condition, "reason": t.reason, "message": t.message,
                              "output_tail": list(t.output_tail), "output_path": t.output_path}
                             for t in result.trials if t.condition in ("Failed", "MetricsUnavailable")],
            },
        }
        stream.write(json.dumps(data, indent=2) + "\n")
    else:
        stream.write(katib_yaml(result, experiment, trial_objects=args.trial_objects))
        stream.write(comment("\n" + "\n".join(_run_lines(result, out, wall))))
        if failures:
            stream.write(comment("\n" + "\n".join(failures)))
    stream.flush()
