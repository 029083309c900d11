"""``execute()``: one experiment on a real backend (local processes, later a cluster) -> a RunResult.

The counterpart of :func:`katibsim.engine.run.simulate` for backends that run the trial template
itself: there is no simulated objective and no parameter mapping. The experiment's algorithm and
early-stopping service are built through the plugin host from the same seed tree as a simulation
(so trial names and a seeded algorithm's suggestions are the same for the same seed — which is
what lets an interrupted local run resume), the controller drives the backend on real time, and
the result's timestamps start at the real wall-clock start.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

from katibsim.backends.base import Backend, RunContext
from katibsim.engine.controller import Controller, RunInfo
from katibsim.engine.options import SimulationOptions
from katibsim.engine.result import Note, RunResult
from katibsim.engine.run import Streams, build_early_stopping
from katibsim.errors import SpecError
from katibsim.spec.model import AlgorithmSetting, AlgorithmSpec, Experiment


def wall_clock_start() -> str:
    """Now, as the RFC3339 instant a real run's time 0 is rendered as."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def execute(
    experiment: Experiment,
    backend: Backend,
    *,
    seed: int = 0,
    options: SimulationOptions | None = None,
    algorithm: str | None = None,
    algorithm_settings: Mapping[str, str] | None = None,
    output_dir: str | Path | None = None,
    validate: bool = True,
    notes: Sequence[Note] = (),
) -> RunResult:
    """Run ``experiment`` with its own algorithm (or ``algorithm``) on ``backend``.

    ``options`` only matter for what the controller itself decides (``katib_compat``,
    ``unbounded_trial_limit``) and for rendering (``start_time``, the wall clock now by default);
    the simulation model's delays and failures do not apply to real trials. Raises SpecError for an
    invalid experiment, an unknown algorithm or a bad setting; the backend's own errors (an
    unmapped path, say) before the first trial starts.
    """
    from katibsim import plugins
    from katibsim.algorithm_factory import build_algorithm

    options = options or SimulationOptions(start_time=wall_clock_start())
    if validate:
        from katibsim.spec.validation import errors_of
        from katibsim.spec.validation import validate as validate_spec

        errors = errors_of(validate_spec(experiment))
        if errors:
            raise SpecError(errors)
    notes = list(notes)
    streams = Streams.from_seed(seed)
    run_exp = experiment
    if algorithm is not None:
        original = experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm else None
        if algorithm != original:
            notes.append(Note("algorithm-override", f"algorithm {algorithm} was used instead of the experiment's {original}"))
        items = tuple(AlgorithmSetting(k, str(v)) for k, v in (algorithm_settings or {}).items())
        run_exp = replace(experiment, spec=replace(experiment.spec, algorithm=AlgorithmSpec(algorithm_name=algorithm, algorithm_settings=items)))
        algorithm_settings = None
    algo = build_algorithm(run_exp, seed=streams.algorithm_seed, settings=algorithm_settings,
                           corrected=not options.katib_compat)
    es = build_early_stopping(experiment)

    obj = experiment.spec.objective
    metric_names = (obj.objective_metric_name,) + tuple(m for m in obj.additional_metric_names if m != obj.objective_metric_name)
    context = RunContext(experiment=experiment, options=options, metric_names=metric_names,
                         maximize=obj.type == "maximize", output_dir=None if output_dir is None else str(output_dir))
    try:
        from katibsim.spec.serialize import experiment_to_dict

        spec = experiment_to_dict(experiment, "kubeflow.org/v1beta1")["spec"]
    except Exception:  # noqa: BLE001 - the spec copy is for display only
        spec = {}
    backend.open(context)
    try:
        describe = getattr(backend, "describe", None)
        info = RunInfo(
            algorithm=algo.name,
            seed=int(seed),
            algorithm_settings=tuple((k, str(v)) for k, v in algo.settings.items()),
            early_stopping=(es.name or type(es).__name__) if es is not None else None,
            early_stopping_settings=tuple(es.settings.items()) if es is not None else (),
            objective=None,
            mapping=describe() if callable(describe) else None,
            backend=backend.name or type(backend).__name__,
            spec=spec,
            notes=tuple(notes),
            plugin=plugins.owner_of(type(algo)),
        )
        controller = Controller(experiment, algorithm=algo, backend=backend, context=context, info=info,
                                names_rng=streams.names, early_stopping=es, options=options)
        return controller.run()
    finally:
        backend.close()


__all__ = ["execute", "wall_clock_start"]
