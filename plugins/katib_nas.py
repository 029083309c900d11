"""``enas`` and ``darts``: Katib's neural-architecture-search services, for validation only.

katibsim does not simulate architecture search (:attr:`simulatable` is False: ``simulate`` and
``compare`` refuse these algorithms with one sentence). What it does reproduce is their
``ValidateAlgorithmSettings``, with Katib's messages:

* both services check ``nasConfig.operations`` (``nas/common/validation.py``): every operation
  needs an ``operationType`` and parameters; each parameter a name and a type; categorical and
  discrete a list; int and double a min or a max; a double a step > 0;
* ``enas`` first checks ``graphConfig``: ``inputSizes``, ``outputSizes`` and ``numLayers``; its
  settings (``nas/enas/AlgorithmSettings.py``) have types and ranges, unknown names are refused;
* ``darts`` checks the ranges of its known settings and accepts any other name.

The operation and graph checks need the Experiment, which an algorithm's constructor does not
get: :meth:`validate_experiment` returns them, and ``katibsim validate`` calls it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, SettingsError, SettingSpec, Trial
from katibsim.errors import FieldError, KatibsimError
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import SearchSpace, Value

_TYPES = ("int", "double", "categorical", "discrete")


def _repr(obj: Any) -> str:
    """A short text of a nasConfig fragment (Katib prints the protobuf message)."""
    if isinstance(obj, Mapping):
        return "{" + ", ".join(f"{k}: {_repr(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_repr(v) for v in obj) + "]"
    return str(obj)


def operation_errors(nas: Mapping[str, Any] | None) -> list[FieldError]:
    """Katib's ``validate_operations``: the first problem of ``nasConfig.operations``, at its path."""
    nas = nas or {}
    ops = nas.get("operations") or []
    for i, op in enumerate(ops if isinstance(ops, list) else []):
        base = f"spec.nasConfig.operations[{i}]"
        op = op if isinstance(op, Mapping) else {}
        if not op.get("operationType"):
            return [FieldError(f"{base}.operationType", f"Missing operationType in Operation:\n{_repr(op)}", kind="required")]
        params = op.get("parameters") or []
        if not params:
            return [FieldError(f"{base}.parameters", f"Missing ParameterConfigs in Operation:\n{_repr(op)}", kind="required")]
        for j, p in enumerate(params):
            path = f"{base}.parameters[{j}]"
            p = p if isinstance(p, Mapping) else {}
            fs = p.get("feasibleSpace") if isinstance(p.get("feasibleSpace"), Mapping) else {}
            if not p.get("name"):
                return [FieldError(f"{path}.name", f"Missing Name in ParameterConfig:\n{_repr(p)}", kind="required")]
            ptype = p.get("parameterType")
            if ptype not in _TYPES:
                return [FieldError(f"{path}.parameterType", f"Missing ParameterType in ParameterConfig:\n{_repr(p)}", kind="required")]
            if ptype in ("categorical", "discrete"):
                if not fs.get("list"):
                    return [FieldError(f"{path}.feasibleSpace.list", f"Missing List in ParameterConfig.feasibleSpace:\n{_repr(p)}", kind="required")]
            else:
                if not fs.get("min") and not fs.get("max"):
                    return [FieldError(f"{path}.feasibleSpace", f"Missing Max and Min in ParameterConfig.feasibleSpace:\n{_repr(p)}", kind="required")]
                if ptype == "double":
                    step = fs.get("step")
                    try:
                        bad = not step or float(step) <= 0
                    except (TypeError, ValueError) as exc:
                        return [FieldError(f"{path}.feasibleSpace.step", f"failed to validate ParameterConfig.feasibleSpace \n{_repr(p)}):\n{exc}")]
                    if bad:
                        return [FieldError(f"{path}.feasibleSpace.step", f"Step parameter should be > 0 in ParameterConfig.feasibleSpace:\n{_repr(p)}")]
    return []


class NasAlgorithm(Algorithm):
    """What ``enas`` and ``darts`` share: validation only, never a suggestion."""

    #: katibsim does not simulate architecture search; the simulation refuses such algorithms.
    simulatable: ClassVar[bool] = False
    capabilities = Capabilities()
    #: The conformance kit's suggestion checks do not apply: these algorithms never suggest in katibsim.
    kit_exempt: ClassVar[Mapping[str, str]] = {
        c: "architecture search: katibsim validates it but never asks it for suggestions"
        for c in ("check_in_space", "check_exact_count", "check_deterministic", "check_rebuild_same_answer",
                  "check_history_with_failed_nan_running_earlystopped", "check_history_unchanged", "check_rejects_junk_settings",
                  "check_pickles", "check_batch")}

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(space, objective, {}, seed, **kwargs)  # the settings rules are the service's own
        self.settings = dict(settings or {})
        self._check_settings()

    def _check_settings(self) -> None:
        raise NotImplementedError

    @classmethod
    def validate_experiment(cls, experiment) -> list[FieldError]:
        """The service's checks of ``spec.nasConfig`` (graph, operations), at their field paths."""
        return operation_errors(experiment.spec.nas_config)

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        raise KatibsimError(f"katibsim does not simulate architecture search (algorithm {self.name})")


# Katib's nas/enas/AlgorithmSettings.py: type, lower bound, upper bound ("inf": none).
ENAS_SETTINGS: dict[str, tuple[type, float, float | str, Any]] = {
    "controller_hidden_size": (int, 1, "inf", 64),
    "controller_temperature": (float, 0, "inf", 5.0),
    "controller_tanh_const": (float, 0, "inf", 2.25),
    "controller_entropy_weight": (float, 0.0, "inf", 1e-5),
    "controller_baseline_decay": (float, 0.0, 1.0, 0.999),
    "controller_learning_rate": (float, 0.0, 1.0, 5e-5),
    "controller_skip_target": (float, 0.0, 1.0, 0.4),
    "controller_skip_weight": (float, 0.0, "inf", 0.8),
    "controller_train_steps": (int, 1, "inf", 50),
    "controller_log_every_steps": (int, 1, "inf", 10),
}
ENAS_NONE_ALLOWED = ("controller_temperature", "controller_tanh_const", "controller_entropy_weight", "controller_skip_weight")


class Enas(NasAlgorithm):
    """Katib's ENAS (an RL controller designing CNN cells): settings and nasConfig validation only."""

    name = "enas"
    description = "ENAS neural architecture search (Katib's service; validated, not simulated)"
    settings_spec = tuple(SettingSpec(k, str(v[3]), f"{v[0].__name__}, range {'(' if v[0] is float else '['}{v[1]}, {v[2]}{']' if v[0] is float and v[2] != 'inf' else ')'}")
                          for k, v in ENAS_SETTINGS.items())

    def _check_settings(self) -> None:
        for name, value in self.settings.items():
            rule = ENAS_SETTINGS.get(name)
            if rule is None:
                raise SettingsError(f"Unknown Algorithm Setting name: {name}", setting=name, on_name=True)
            if name in ENAS_NONE_ALLOWED and value == "None":
                continue
            kind, low, high, _ = rule
            try:
                v = kind(value)
            except ValueError as exc:
                raise SettingsError(f"Algorithm Setting {name} must be {kind.__name__} type: exception {exc}", setting=name) from None
            if kind is float:
                if v <= low or (high != "inf" and v > high):
                    raise SettingsError(f"Algorithm Setting {name}: {v} with float type must be in range ({low}, {high})", setting=name)
            elif v < low:
                raise SettingsError(f"Algorithm Setting {name}: {v} with int type must be in range [{low}, {high})", setting=name)

    @classmethod
    def validate_experiment(cls, experiment) -> list[FieldError]:
        graph = (experiment.spec.nas_config or {}).get("graphConfig") or {}
        graph = graph if isinstance(graph, Mapping) else {}
        for key, label in (("inputSizes", "InputSizes"), ("outputSizes", "OutputSizes"), ("numLayers", "NumLayers")):
            if not graph.get(key):
                return [FieldError(f"spec.nasConfig.graphConfig.{key}", f"Missing {label} in GraphConfig:\n{_repr(graph)}",
                                   experiment.source_file, kind="required")]
        return [FieldError(e.path, e.message, experiment.source_file, kind=e.kind) for e in operation_errors(experiment.spec.nas_config)]


# Katib's nas/darts/service.py: defaults and the rule each known setting must satisfy.
DARTS_DEFAULTS = {
    "num_epochs": 50, "w_lr": 0.025, "w_lr_min": 0.001, "w_momentum": 0.9, "w_weight_decay": 3e-4,
    "w_grad_clip": 5.0, "alpha_lr": 3e-4, "alpha_weight_decay": 1e-3, "batch_size": 128, "num_workers": 4,
    "init_channels": 16, "print_step": 50, "num_nodes": 4, "stem_multiplier": 3,
}


class Darts(NasAlgorithm):
    """Katib's DARTS (differentiable architecture search in one trial): settings and nasConfig validation only."""

    name = "darts"
    description = "DARTS neural architecture search (Katib's service; validated, not simulated)"
    settings_spec = tuple(SettingSpec(k, str(v), "DARTS hyperparameter") for k, v in DARTS_DEFAULTS.items())

    def _check_settings(self) -> None:
        for name, value in self.settings.items():
            try:
                message = self._problem(name, value)
            except (TypeError, ValueError) as exc:
                message = f"failed to validate {name}({value}): {exc}"
            if message:
                raise SettingsError(message, setting=name)

    @staticmethod
    def _problem(name: str, value: str) -> str | None:
        if name == "num_epochs" and not int(value) > 0:
            return f"{name} should be greater than zero"
        if name in ("w_lr", "w_lr_min", "alpha_lr", "w_weight_decay", "alpha_weight_decay", "w_momentum", "w_grad_clip"):
            if not float(value) >= 0.0:
                return f"{name} should be greater than or equal to zero"
        if name == "batch_size" and value != "None" and not int(value) >= 1:
            return "batch_size should be greater than or equal to one"
        if name == "num_workers" and not int(value) >= 0:
            return "num_workers should be greater than or equal to zero"
        if name in ("init_channels", "print_step", "num_nodes", "stem_multiplier") and not int(value) >= 1:
            return f"{name} should be greater than or equal to one"
        return None


@hookimpl
def katibsim_register_algorithms(register):
    register(Enas)
    register(Darts)
