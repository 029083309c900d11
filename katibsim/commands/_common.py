"""What the ``run`` and ``simulate`` commands share: reading a valid experiment, KEY=VALUE options, output.

Not a command itself (``katibsim.commands.BUILTIN_COMMANDS`` lists the commands).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator

from katibsim.errors import InputError, SpecError
from katibsim.spec.serialize import to_yaml


def load_valid_experiment(path: str):
    """The experiment in ``path`` after Katib's defaults and validation.

    Raises :class:`SpecError` with every error; warnings are printed to stderr (the CLI renders).
    """
    from katibsim.spec.loader import load_experiment
    from katibsim.spec.validation import errors_of, validate, warnings_of

    experiment = load_experiment(path)
    problems = validate(experiment)
    errors = errors_of(problems)
    if errors:
        raise SpecError(errors)
    for w in warnings_of(problems):
        print(w.render(), file=sys.stderr)
    return experiment


@contextmanager
def option_errors(option: str) -> Iterator[None]:
    """A bad value given on the command line is a usage error (exit 2), not an invalid experiment (exit 1).

    The plugin host reports an unknown objective, backend or option as a SpecError (exit 1), which
    is right inside a scenario file; for a CLI option the same message becomes an InputError.
    """
    try:
        yield
    except SpecError as err:
        raise InputError("\n".join(f"{option}: {e.render()}" for e in err.errors)) from None


def add_mismatch_option(parser) -> None:
    """``--allow-objective-mismatch [KINDS]``: an objective that does not fit the experiment is a
    note, not an error (docs/objectives.md#when-the-objective-does-not-fit)."""
    parser.add_argument("--allow-objective-mismatch", nargs="?", const="intended", default=None, metavar="KINDS",
                        help="run although the objective does not fit the experiment (direction, metric, range; "
                             "comma-separated; default all): the mismatch becomes a note of the run; give the kinds as "
                             "--allow-objective-mismatch=KINDS, or put the option after EXPERIMENT, as a bare word "
                             "after it is taken for KINDS")


def allowed_mismatches(value: str | None) -> frozenset[str]:
    """The kinds ``--allow-objective-mismatch`` declares intended (exit 2 for an unknown kind)."""
    from katibsim.engine.mismatch import KINDS, allowed_kinds

    if value is None:
        return frozenset()
    if value == "intended":
        return allowed_kinds(True)
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise InputError(f"--allow-objective-mismatch {value!r}: expected a comma-separated list of "
                         f"{', '.join(KINDS)} (or nothing: all of them)")
    return allowed_kinds(kinds)


def warn_unreachable_goal(experiment, objective) -> None:
    """A goal only noise can reach (beyond the objective's noise-free optimum), on stderr, as the
    validation warnings are."""
    from katibsim.engine.mismatch import goal_beyond_optimum
    from katibsim.objective_view import for_metric

    spec = experiment.spec.objective
    if spec is None or spec.goal is None:
        return
    why = goal_beyond_optimum(float(spec.goal), spec.type == "maximize", for_metric(objective, spec.objective_metric_name))
    if why:
        where = f"{experiment.source_file}: " if experiment.source_file else ""
        print(f"warning: {where}spec.objective.goal: goal {why}", file=sys.stderr)


def pairs(items: list[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` options (``what`` names the option in the error) as a dict, both sides trimmed."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{what} {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def run_spec(experiment, trial) -> dict | None:
    """The trial's rendered runSpec, or None when the template cannot be rendered for it."""
    try:
        from katibsim.spec.templates import render_trial

        return render_trial(experiment, trial.name, dict(trial.assignment))
    except Exception:  # noqa: BLE001 - the rendered runSpec is shown when it can be
        return None


def comment(text: str) -> str:
    """``text`` as YAML comment lines (no trailing spaces)."""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())


def katib_objects(result, experiment) -> dict[str, Any]:
    """The Experiment, Suggestion and Trial objects Katib would hold, for ``-o json``."""
    from katibsim.engine import status

    return {
        "experiment": status.experiment_object(result),
        "suggestion": status.suggestion_object(result),
        "trials": [status.trial_object(result, t, run_spec(experiment, t)) for t in result.trials],
    }


def katib_yaml(result, experiment, *, trial_objects: bool) -> str:
    """``-o yaml``: the Experiment and Suggestion (and every Trial with ``trial_objects``), then
    ``kubectl get trials`` as a comment."""
    from katibsim.engine import status

    objects = [status.experiment_object(result), status.suggestion_object(result)]
    if trial_objects:
        objects += [status.trial_object(result, t, run_spec(experiment, t)) for t in result.trials]
    return to_yaml(objects) + comment(f"kubectl get trials -n {result.namespace}\n" + status.trials_table(result))
