"""Building and validating an experiment's algorithm and early-stopping service through the plugins.

Katib's ``ValidateAlgorithmSettings`` / ``ValidateEarlyStoppingSettings`` and the construction of
the algorithm a run uses, on top of the registries of :mod:`katibsim.plugins`: the algorithm's
capabilities against the experiment's parameters, its settings (mapped to their field paths), its
predicted failures (warnings), and ``--corrected``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping

from katibsim import plugins
from katibsim.algorithm import Algorithm, SettingsError, objective_info
from katibsim.errors import FieldError, SpecError


def capability_errors(cls: type[Algorithm], experiment) -> list[FieldError]:
    """Parameters the algorithm cannot handle (type, distribution, a double without step),
    each at its field path, from the raw ``spec.parameters``."""
    caps = cls.capabilities
    file = experiment.source_file
    out: list[FieldError] = []
    for i, ps in enumerate(experiment.spec.parameters):
        base = f"spec.parameters[{i}]"
        ptype = ps.parameter_type
        if ptype not in {t.value for t in caps.parameter_types}:
            supported = ", ".join(sorted(t.value for t in caps.parameter_types))
            out.append(FieldError(f"{base}.parameterType", f"parameterType: {ptype} is not supported by algorithm {cls.name} (supported: {supported})", file, ptype, kind="not-supported"))
            continue
        if ptype in ("double", "int"):
            fs = ps.feasible_space
            dist = fs.distribution or "uniform"
            if dist not in {d.value for d in caps.distributions}:
                supported = ", ".join(sorted(d.value for d in caps.distributions))
                out.append(FieldError(f"{base}.feasibleSpace.distribution", f"distribution: {dist} is not supported by algorithm {cls.name} (supported: {supported})", file, dist, kind="not-supported"))
            if ptype == "double" and caps.double_needs_step and fs.step in (None, ""):
                # The algorithm's own words (a Katib-named one: its Katib service's).
                out.append(FieldError(f"{base}.feasibleSpace.step", cls.missing_step_message(ps.name), file, kind="required"))
    return out


def settings_field_error(
    exc: SpecError, settings: Iterable[Any], *, prefix: str = "spec.algorithm", file: str | None = None
) -> FieldError:
    """Map a settings error to ``<prefix>.algorithmSettings[i].value`` (``.name`` for an unknown key).

    Works for :class:`SettingsError` and any SpecError carrying ``setting`` (and optionally
    ``message``, ``on_name``, ``path``) attributes, such as the early-stopping contract's.
    """
    message = getattr(exc, "message", None) or (exc.errors[0].message if exc.errors else str(exc))
    path = getattr(exc, "path", None)
    if path:
        return FieldError(path, message, file)
    setting = getattr(exc, "setting", None)
    on_name = getattr(exc, "on_name", None)
    if on_name is None:
        on_name = message.startswith("unknown setting ")
    for i, s in enumerate(list(settings)):
        if s.name == setting:
            if on_name:
                return FieldError(f"{prefix}.algorithmSettings[{i}].name", message, file, s.name, kind="not-supported")
            return FieldError(f"{prefix}.algorithmSettings[{i}].value", message, file, s.value)
    return FieldError(f"{prefix}.algorithmSettings", message, file)


def build_algorithm(
    experiment, *, seed: int | None = None, settings: Mapping[str, str] | None = None, corrected: bool = False
) -> Algorithm:
    """The experiment's algorithm, built from its search space, objective and settings.

    ``settings`` overrides the experiment's ``algorithmSettings`` (a scenario variant).
    ``corrected`` (``--corrected``, ``katib_compat: false``) sets ``algorithm.corrected`` before
    its first ``suggest``, so a Katib-named plugin runs the fixed behaviour. Raises SpecError at
    the field path for an unknown algorithm, a parameter it cannot handle, or a setting it rejects.
    """
    algo = experiment.spec.algorithm
    name = algo.algorithm_name if algo else None
    if not name:
        raise SpecError(FieldError("spec.algorithm.algorithmName", "must be specified", experiment.source_file, kind="required"))
    cls = plugins.get_algorithm(name, file=experiment.source_file)
    errors = capability_errors(cls, experiment)
    if errors:
        raise SpecError(errors)
    space = experiment.search_space()
    if settings is None:
        items = list(algo.algorithm_settings)
        given = algo.settings()
    else:
        from katibsim.spec.model import AlgorithmSetting

        items = [AlgorithmSetting(k, str(v)) for k, v in settings.items()]
        given = {k: str(v) for k, v in settings.items()}
    try:
        algorithm = cls(
            space,
            objective_info(experiment),
            given,
            seed,
            max_trial_count=experiment.spec.max_trial_count,
            parallel_trial_count=experiment.spec.parallel_trial_count,
        )
    except SettingsError as exc:
        raise SpecError(settings_field_error(exc, items, file=experiment.source_file)) from None
    if corrected:
        algorithm.corrected = True
    return algorithm


def validate_algorithm(experiment) -> list[FieldError]:
    """Katib's ValidateAlgorithmSettings through the plugin: the name, the parameters the algorithm
    supports, and its settings (by building it); then the algorithm's ``predicted_failures()``,
    as warnings (where Katib's service will fail on this experiment though it validates). A
    missing name is the spec validator's business."""
    algo = experiment.spec.algorithm
    name = algo.algorithm_name if algo else None
    if not name:
        return []
    found = plugins.algorithms()
    if name not in found:
        return [plugins.unknown_algorithm(name, found, experiment.source_file)]
    errors = capability_errors(found[name], experiment)
    if errors:
        return errors
    try:
        experiment.search_space()
    except SpecError:
        return []  # unparsable numbers: reported by the spec validator at their paths
    owner = plugins.owner_of(found[name]) or found[name].__module__
    try:
        algorithm = build_algorithm(experiment, seed=0)
    except SpecError as exc:
        return list(exc.errors)
    except Exception as exc:  # noqa: BLE001 - a plugin crashing on a valid experiment
        return [FieldError("spec.algorithm", f"algorithm {name} (plugin {owner}) failed to validate: {type(exc).__name__}: {exc}", experiment.source_file)]
    try:
        predicted = list(algorithm.predicted_failures())
    except Exception as exc:  # noqa: BLE001
        return [FieldError("spec.algorithm", f"algorithm {name} (plugin {owner}) failed in predicted_failures(): {type(exc).__name__}: {exc}", experiment.source_file)]
    out = []
    for w in predicted:
        if not isinstance(w, FieldError):
            return [FieldError("spec.algorithm", f"algorithm {name} (plugin {owner}): predicted_failures() must return FieldErrors, got {type(w).__name__}", experiment.source_file)]
        out.append(replace(w, severity="warning", file=w.file or experiment.source_file))
    return out


def validate_early_stopping(experiment) -> list[FieldError]:
    """``ValidateEarlyStoppingSettings`` through the plugin: the name, then the settings.

    Settings are checked by the class's ``validate_settings(settings)`` when it has one, else by
    building it as the engine will (``cls(objective_info, settings)``, the
    :class:`katibsim.early_stopping.EarlyStopping` constructor). A SpecError carrying ``setting``
    is reported at ``spec.earlyStopping.algorithmSettings[i].value`` (``.name`` for an unknown key).
    """
    es = experiment.spec.early_stopping
    name = es.algorithm_name if es else None
    if not name:
        return []
    file = experiment.source_file
    found = plugins.early_stopping()
    if name not in found:
        return [plugins.unknown_early_stopping(name, found, file)]
    cls = found[name]
    settings = es.settings()
    try:
        validate = getattr(cls, "validate_settings", None)
        if callable(validate):
            validate(settings)
        else:
            cls(objective_info(experiment), settings)
    except SpecError as exc:
        return [settings_field_error(exc, es.algorithm_settings, prefix="spec.earlyStopping", file=file)]
    except Exception as exc:  # noqa: BLE001 - a plugin crashing on a valid experiment
        owner = plugins.owner_of(cls) or cls.__module__
        return [FieldError("spec.earlyStopping", f"early-stopping algorithm {name} (plugin {owner}) failed to validate: {type(exc).__name__}: {exc}", file)]
    return []


__all__ = [
    "build_algorithm", "capability_errors", "objective_info", "settings_field_error", "validate_algorithm",
    "validate_early_stopping",
]
