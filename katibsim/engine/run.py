"""``simulate()``: one experiment, one objective, one seed -> a :class:`RunResult`.

Builds what a run needs through the plugin host (the experiment's algorithm and early-stopping
service, the objective, the backend), maps the experiment's parameters onto the objective's
inputs, seeds one ``numpy.random.SeedSequence`` tree with separate streams for the algorithm, the
trial names, the objective's noise and the simulated failures, and runs the
:class:`~katibsim.engine.controller.Controller`. Everything can also be passed in directly (an
algorithm or objective instance), which is how the engine's own tests run without plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from katibsim.algorithm import Algorithm
from katibsim.backends.base import Backend, RunContext
from katibsim.algorithm import objective_info
from katibsim.early_stopping import EarlyStopping
from katibsim.engine.controller import Controller, RunInfo
from katibsim.engine import mismatch
from katibsim.engine.mapping import ParameterMapping, domain_problems, resolve_mapping
from katibsim.engine.options import SimulationOptions
from katibsim.engine.result import Note, RunResult
from katibsim.errors import SpecError
from katibsim.objective import Objective
from katibsim.spec.model import AlgorithmSetting, AlgorithmSpec, Experiment


@dataclass(frozen=True)
class Streams:
    """The run's random streams, all from one seed (so runs are reproducible and paired).

    The noise and failure streams do not depend on the algorithm, so two algorithms run with the
    same seed meet the same noise and failure draws for their n-th trial.
    """

    algorithm_seed: int
    names: np.random.Generator
    noise: np.random.Generator
    failures: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> "Streams":
        alg, names, noise, failures = np.random.SeedSequence(int(seed)).spawn(4)
        return cls(
            algorithm_seed=int(alg.generate_state(1, dtype=np.uint32)[0]),
            names=np.random.default_rng(names),
            noise=np.random.default_rng(noise),
            failures=np.random.default_rng(failures),
        )


def _with_algorithm(exp: Experiment, name: str, settings: Mapping[str, str] | None) -> Experiment:
    items = tuple(AlgorithmSetting(k, str(v)) for k, v in (settings or {}).items())
    return replace(exp, spec=replace(exp.spec, algorithm=AlgorithmSpec(algorithm_name=name, algorithm_settings=items)))


def build_early_stopping(exp: Experiment) -> EarlyStopping | None:
    """The experiment's early-stopping service (``spec.earlyStopping``), None when it has none."""
    es = exp.spec.early_stopping
    if es is None or not es.algorithm_name:
        return None
    from katibsim import plugins
    from katibsim.algorithm_factory import settings_field_error

    cls = plugins.get_early_stopping(es.algorithm_name, file=exp.source_file)
    try:
        return cls(objective_info(exp), es.settings())
    except SpecError as exc:
        if getattr(exc, "setting", None) is not None or getattr(exc, "message", None):
            raise SpecError(settings_field_error(exc, es.algorithm_settings, prefix="spec.earlyStopping",
                                                         file=exp.source_file)) from None
        raise


def check_simulatable(experiment: Experiment, algorithm: str | None = None) -> None:
    """Refuse an algorithm whose class says ``simulatable = False`` (neural architecture search):
    an InputError (exit 2) in one sentence, before anything else is built."""
    from katibsim import plugins
    from katibsim.errors import InputError

    name = algorithm or (experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm else None)
    cls = plugins.algorithms().get(name or "")
    if cls is not None and not getattr(cls, "simulatable", True):
        where = f"{experiment.source_file}: " if experiment.source_file else ""
        raise InputError(f"{where}algorithm {name} is a neural architecture search, and katibsim does not simulate "
                         f"architecture search (katibsim validate checks this Experiment)")


def fit_objective(
    experiment: Experiment,
    name: str,
    options: Mapping[str, Any] | None = None,
    mapping: Sequence[str] | Mapping[str, str] | None = None,
) -> tuple[Objective, dict[str, Any], list[Note]]:
    """Build the objective ``name`` for ``experiment``: when its parameters cannot be mapped onto
    the objective's default inputs and the objective takes a ``dim`` option the caller did not
    give, build it with ``dim`` = the number of parameters (Ackley in 2-D for a 2-parameter
    experiment). Returns the objective, the options used and a note when ``dim`` was chosen."""
    from katibsim import plugins
    from katibsim.errors import InputError

    check_simulatable(experiment)
    opts = dict(options or {})
    objective = plugins.get_objective(name, **opts)
    if mapping:
        return objective, opts, []
    space = experiment.search_space()
    try:
        resolve_mapping(space, objective)
        return objective, opts, []
    except InputError as first:
        if "dim" in opts:
            raise
        try:
            fitted = plugins.get_objective(name, **opts, dim=len(space))
            resolve_mapping(space, fitted)
        except Exception:  # noqa: BLE001 - no dim option, or still not mappable: report the first problem
            raise first from None
    note = Note("objective-dim", f"objective {name} was built with dim={len(space)} to match the experiment's "
                                 f"{len(space)} parameter(s)")
    return fitted, {**opts, "dim": len(space)}, [note]


def simulate(
    experiment: Experiment,
    objective: Objective | str,
    *,
    seed: int = 0,
    options: SimulationOptions | None = None,
    mapping: ParameterMapping | Sequence[str] | Mapping[str, str] | None = None,
    algorithm: Algorithm | str | None = None,
    algorithm_settings: Mapping[str, str] | None = None,
    early_stopping: EarlyStopping | None = None,
    objective_options: Mapping[str, Any] | None = None,
    backend: Backend | str | None = None,
    validate: bool = True,
    notes: Sequence[Note] = (),
    allow_mismatch: bool | str | Sequence[str] = (),
) -> RunResult:
    """Run ``experiment`` against ``objective`` on a simulated cluster and return the result.

    ``algorithm`` is an instance (used as is; under ``katib_compat: false`` its ``corrected`` is
    set, as the factory does for a built one), a name (overriding ``spec.algorithm``) or None (the
    experiment's own algorithm, with ``algorithm_settings`` replacing its settings when given).
    ``early_stopping`` None means the experiment's ``spec.earlyStopping``. ``mapping`` is a
    ready mapping, ``--map`` entries, or None (by name, else by order). Raises SpecError for an
    invalid experiment, an unknown algorithm or a bad setting, InputError for a bad mapping or an
    objective that does not fit the experiment (:mod:`katibsim.engine.mismatch`) unless
    ``allow_mismatch`` declares that kind intended (True / "intended": every kind; or a list of
    "direction", "metric", "range"): then it is a note of the run.

    An experiment whose objective metric is one the objective reports besides its main metric
    (``Objective.reports``) collects that metric (:func:`katibsim.objective_view.for_metric`).
    """
    if not isinstance(algorithm, Algorithm):
        check_simulatable(experiment, algorithm)
    options = options or SimulationOptions()
    notes = list(notes)
    if validate:
        from katibsim.spec.validation import errors_of
        from katibsim.spec.validation import validate as validate_spec

        errors = errors_of(validate_spec(experiment))
        if errors:
            raise SpecError(errors)
    streams = Streams.from_seed(seed)

    objective_name = objective if isinstance(objective, str) else (objective.name or type(objective).__name__)
    if isinstance(objective, str):
        from katibsim import plugins

        objective = plugins.get_objective(objective, **dict(objective_options or {}))
    assert isinstance(objective, Objective)
    from katibsim.objective_view import for_metric

    objective = for_metric(objective, experiment.spec.objective.objective_metric_name if experiment.spec.objective else None)

    plugin: str | None = None
    if isinstance(algorithm, Algorithm):
        algo = algorithm
        algo_name = algo.name or type(algo).__name__
        algo_settings = tuple(algo.settings.items())
        if not options.katib_compat:
            algo.corrected = True
    else:
        from katibsim import plugins
        from katibsim.algorithm_factory import build_algorithm

        run_exp = experiment
        if isinstance(algorithm, str):
            original = experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm else None
            if algorithm != original:
                notes.append(Note("algorithm-override",
                                  f"algorithm {algorithm} was used instead of the experiment's {original}"))
            run_exp = _with_algorithm(experiment, algorithm, algorithm_settings)
            algorithm_settings = None
        algo = build_algorithm(run_exp, seed=streams.algorithm_seed, settings=algorithm_settings,
                               corrected=not options.katib_compat)
        plugin = plugins.owner_of(type(algo))
        algo_name = algo.name
        algo_settings = tuple((k, str(v)) for k, v in algo.settings.items())

    es = early_stopping if early_stopping is not None else build_early_stopping(experiment)

    space = algo.space
    if not isinstance(mapping, ParameterMapping):
        mapping = resolve_mapping(space, objective, mapping)
    # A real job's range problems are mismatches (an error unless intended); the rest are notes.
    notes.extend(Note("objective-domain", d.message) for d in domain_problems(space, objective, mapping)
                 if objective.generic or d.kind not in ("range", "values"))
    notes.extend(mismatch.check(experiment, objective, mapping, objective_name, allow_mismatch))

    if backend is None or isinstance(backend, str):
        name = backend or "sim"
        if name == "sim":
            from katibsim.backends.sim import SimBackend

            backend = SimBackend()
        else:
            from katibsim import plugins

            backend = plugins.get_backend(name).factory()
    obj_spec = experiment.spec.objective
    metric_names = (obj_spec.objective_metric_name,) + tuple(
        m for m in obj_spec.additional_metric_names if m != obj_spec.objective_metric_name
    )
    context = RunContext(
        experiment=experiment, options=options, metric_names=metric_names,
        maximize=obj_spec.type == "maximize", objective=objective, mapping=mapping,
        noise_rng=streams.noise, failure_rng=streams.failures,
    )
    try:
        from katibsim.spec.serialize import experiment_to_dict

        spec = experiment_to_dict(experiment, "kubeflow.org/v1beta1")["spec"]
    except Exception:  # noqa: BLE001 - the spec copy is for display only
        spec = {}
    info = RunInfo(
        algorithm=algo_name,
        seed=int(seed),
        algorithm_settings=algo_settings,
        early_stopping=(es.name or type(es).__name__) if es is not None else None,
        early_stopping_settings=tuple(es.settings.items()) if es is not None else (),
        objective=objective_name,
        objective_options=tuple((str(k), str(v)) for k, v in (objective_options or {}).items()),
        mapping=mapping.describe(),
        backend=backend.name or type(backend).__name__,
        spec=spec,
        notes=tuple(notes),
        plugin=plugin,
    )
    backend.open(context)
    try:
        controller = Controller(experiment, algorithm=algo, backend=backend, context=context, info=info,
                                names_rng=streams.names, early_stopping=es, options=options)
        return controller.run()
    finally:
        backend.close()


__all__ = ["Streams", "simulate", "build_early_stopping", "fit_objective", "check_simulatable"]
