"""The host's lookups, build_algorithm and the validate_* functions the CLI calls."""

from __future__ import annotations

import pytest

from katibsim import algorithm_factory, plugins
from katibsim.algorithm import Algorithm, Capabilities, SettingsError, SettingSpec
from katibsim.errors import FieldError, PluginError, SpecError
from katibsim.hookspecs import hookimpl
from katibsim.objective import Evaluation, Objective
from katibsim.spec.space import Distribution, ParameterType
from katibsim_plugins.katib_hyperopt.plugin import KatibRandom
from katibsim_plugins.katib_optuna.plugin import KatibGrid
from plugin_helpers import experiment, pspec


@pytest.fixture
def runtime_plugin():
    """Register hook implementations into the process-wide manager for one test."""
    names = []

    def add(name: str, **hooks):
        obj = type(name, (), {k: staticmethod(hookimpl(v)) for k, v in hooks.items()})
        plugins.pm.register(obj, name=name)
        names.append(name)
        return obj

    yield add
    for n in names:
        plugins.pm.unregister(name=n)


class DoublesOnly(Algorithm):
    name = "doubles-only"
    capabilities = Capabilities(
        parameter_types=frozenset({ParameterType.DOUBLE}), distributions=frozenset({Distribution.UNIFORM})
    )
    settings_spec = (SettingSpec("alpha", "0.5", "in (0, 1)"),)

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        if not 0 < float(self.setting("alpha")) < 1:
            raise SettingsError("alpha should be in the range of (0, 1)", setting="alpha")

    def suggest(self, trials, count):
        return [{p.name: p.bounds[0] for p in self.space} for _ in range(count)]


class Crashes(Algorithm):
    name = "crashes"

    def __init__(self, *a, **kw):
        raise ZeroDivisionError("bug in the plugin")

    def suggest(self, trials, count):  # pragma: no cover
        return []


# -- lookups --------------------------------------------------------------------------------------


def test_get_algorithm_unknown_lists_known():
    with pytest.raises(SpecError) as info:
        plugins.get_algorithm("hyperopt-tpe")
    (err,) = info.value.errors
    assert err.path == "spec.algorithm.algorithmName" and err.value == "hyperopt-tpe"
    assert err.message.startswith("unable to get Suggestion config data for algorithm hyperopt-tpe")
    assert f"known algorithms: {', '.join(sorted(plugins.algorithms()))}" in err.message
    assert "grid, " in err.message and "random" in err.message


def test_get_early_stopping_unknown_lists_known():
    with pytest.raises(SpecError) as info:
        plugins.get_early_stopping("meanstop")
    (err,) = info.value.errors
    assert err.path == "spec.earlyStopping.algorithmName"
    assert "unable to get EarlyStopping config data for algorithm meanstop" in err.message
    assert "known early-stopping algorithms:" in err.message


class Const(Objective):
    name = "const"
    inputs = ()

    def __init__(self, value: float = 1.0):
        self.value = value

    def evaluate(self, x, rng):
        return Evaluation(self.value)


def test_objectives_registry_and_options(runtime_plugin):
    runtime_plugin("objs", katibsim_register_objectives=lambda register: register("const-test", Const, "a constant"))
    entry = plugins.objectives()["const-test"]
    assert (entry.name, entry.factory, entry.description, entry.plugin) == ("const-test", Const, "a constant", "objs")
    assert plugins.get_objective("const-test", value=2.0).value == 2.0
    with pytest.raises(SpecError, match="accepted options: value"):
        plugins.get_objective("const-test", noise=0.1)
    with pytest.raises(SpecError, match="unknown objective nope; known objectives: .*const-test"):
        plugins.get_objective("nope")


def test_objective_factory_must_return_an_objective(runtime_plugin):
    runtime_plugin("objs2", katibsim_register_objectives=lambda register: register("not-one", lambda: 3))
    with pytest.raises(PluginError, match="plugin objs2: objective not-one factory returned int"):
        plugins.get_objective("not-one")


def test_backends_and_report_sections(runtime_plugin):
    runtime_plugin(
        "extras",
        katibsim_register_backends=lambda register: register("fake", lambda **kw: None, "nowhere"),
        katibsim_register_report_sections=lambda register: register("extra", lambda data: None),
    )
    assert plugins.get_backend("fake").plugin == "extras"
    assert plugins.report_sections()["extra"].plugin == "extras"
    with pytest.raises(SpecError, match="unknown backend no-such-backend; known backends: .*fake"):
        plugins.get_backend("no-such-backend")


def test_commands_skip_builtin_names(runtime_plugin):
    def reg(register):
        register("hello", lambda p: None, lambda a: 0, help="say hello")
        register("validate", lambda p: None, lambda a: 0)

    runtime_plugin("cmds", katibsim_register_commands=reg)
    cmds = plugins.commands()
    assert cmds["hello"].help == "say hello" and cmds["hello"].plugin == "cmds"
    assert "validate" not in cmds


def test_commands_never_raise_on_duplicates(runtime_plugin):
    runtime_plugin("c1", katibsim_register_commands=lambda register: register("dup", lambda p: None, lambda a: 0))
    runtime_plugin("c2", katibsim_register_commands=lambda register: register("dup", lambda p: None, lambda a: 0))
    assert plugins.commands() == {}
    assert any("registered by two plugins" in e.error for e in plugins.load_errors())


def test_registration_provenance():
    reg = plugins.registration("algorithms", "grid")
    assert (reg.obj, reg.plugin, reg.source, reg.distribution) == (KatibGrid, "katib_optuna", "builtin", "katibsim")
    assert plugins.owner_of(KatibRandom) == "katib_hyperopt"


# -- build_algorithm ------------------------------------------------------------------------------------


def test_build_algorithm_uses_the_experiment():
    exp = experiment(pspec("lr", "double", min="0.01", max="0.1"), settings={"random_state": "3"}, max_trial_count=9)
    alg = algorithm_factory.build_algorithm(exp, seed=1)
    assert isinstance(alg, KatibRandom)
    assert alg.settings == {"random_state": "3"} and alg.seed == 1 and alg.library_seed == 3
    assert alg.max_trial_count == 9 and alg.parallel_trial_count == 3
    assert alg.objective.metric_name == "accuracy" and alg.objective.maximize


def test_build_algorithm_settings_override():
    exp = experiment(settings={"random_state": "3"})
    alg = algorithm_factory.build_algorithm(exp, seed=1, settings={})
    assert alg.settings == {} and alg.library_seed == 1


def test_build_algorithm_settings_errors_at_their_field():
    exp = experiment(settings={"random_state": "1", "gamma": "0.2"})
    with pytest.raises(SpecError) as info:
        algorithm_factory.build_algorithm(exp)
    (err,) = info.value.errors
    assert (err.path, err.message, err.value, err.file) == (
        "spec.algorithm.algorithmSettings[1].name",
        "unknown setting gamma for algorithm random",
        "gamma",
        "exp.yaml",
    )
    exp = experiment(settings={"random_state": "-4"})
    with pytest.raises(SpecError) as info:
        algorithm_factory.build_algorithm(exp)
    (err,) = info.value.errors
    assert (err.path, err.message, err.value) == (
        "spec.algorithm.algorithmSettings[0].value",
        "random_state should be great or equal than zero",
        "-4",
    )
    # Overridden settings (a scenario variant) are indexed in their own order.
    with pytest.raises(SpecError) as info:
        algorithm_factory.build_algorithm(experiment(), settings={"random_state": "x"})
    assert info.value.errors[0].path == "spec.algorithm.algorithmSettings[0].value"


def test_build_algorithm_refuses_unsupported_parameters(runtime_plugin):
    runtime_plugin("dbl", katibsim_register_algorithms=lambda register: register(DoublesOnly))
    exp = experiment(
        pspec("lr", "double", min="0.01", max="0.1", distribution="logUniform"),
        pspec("opt", "categorical", list=["a"]),
        algorithm="doubles-only",
    )
    with pytest.raises(SpecError) as info:
        algorithm_factory.build_algorithm(exp)
    paths = {e.path: e.message for e in info.value.errors}
    assert paths["spec.parameters[0].feasibleSpace.distribution"] == (
        "distribution: logUniform is not supported by algorithm doubles-only (supported: uniform)"
    )
    assert paths["spec.parameters[1].parameterType"] == (
        "parameterType: categorical is not supported by algorithm doubles-only (supported: double)"
    )


# -- validate_algorithm ------------------------------------------------------------------------------------


def test_validate_algorithm_ok_and_missing_name():
    assert algorithm_factory.validate_algorithm(experiment()) == []
    assert algorithm_factory.validate_algorithm(experiment(algorithm="")) == []


def test_validate_algorithm_unknown():
    (err,) = algorithm_factory.validate_algorithm(experiment(algorithm="no-such-algorithm"))
    assert err.path == "spec.algorithm.algorithmName"
    assert err.message.endswith(f"known algorithms: {', '.join(sorted(plugins.algorithms()))}")


def test_validate_algorithm_settings(runtime_plugin):
    runtime_plugin("dbl", katibsim_register_algorithms=lambda register: register(DoublesOnly))
    (err,) = algorithm_factory.validate_algorithm(experiment(algorithm="doubles-only", settings={"alpha": "2"}))
    assert (err.path, err.message, err.value) == (
        "spec.algorithm.algorithmSettings[0].value",
        "alpha should be in the range of (0, 1)",
        "2",
    )


def test_validate_grid_needs_steps_and_fits_max_trial_count():
    exp = experiment(pspec("lr", "double", min="0.01", max="0.1"), pspec("n", "int", min="1", max="2"), algorithm="grid")
    (err,) = algorithm_factory.validate_algorithm(exp)
    assert (err.path, err.message) == (
        "spec.parameters[0].feasibleSpace.step",
        "Param lr step is nil; For discrete search space, all parameters must include step",
    )
    exp = experiment(pspec("n", "int", min="1", max="2"), algorithm="grid", max_trial_count=3)
    (err,) = algorithm_factory.validate_algorithm(exp)
    assert (err.path, err.message) == ("spec.maxTrialCount", "Max Trial Count: 3 > all possible search combinations: 2")
    # Valid for Katib (an unset maxTrialCount is sent as 0), but a predicted hang: a warning, not an error.
    found = algorithm_factory.validate_algorithm(experiment(pspec("n", "int", min="1", max="2"), algorithm="grid", max_trial_count=None))
    assert [f.severity for f in found] == ["warning"] and found[0].path == "spec.maxTrialCount"
    assert "maxTrialCount: 2" in found[0].message


def test_validate_algorithm_leaves_bad_numbers_to_the_spec_validator():
    assert algorithm_factory.validate_algorithm(experiment(pspec("lr", "double", min="abc", max="0.1"))) == []


def test_validate_algorithm_reports_a_crashing_plugin(runtime_plugin):
    runtime_plugin("crash", katibsim_register_algorithms=lambda register: register(Crashes))
    (err,) = algorithm_factory.validate_algorithm(experiment(algorithm="crashes"))
    assert err.path == "spec.algorithm"
    assert "algorithm crashes (plugin crash) failed to validate: ZeroDivisionError: bug in the plugin" in err.message


# -- validate_early_stopping ------------------------------------------------------------------------------------


class WithValidator:
    name = "validated-stop"
    settings_spec = (SettingSpec("min_trials_required", "3", ""),)

    @classmethod
    def validate_settings(cls, settings):
        for k, v in settings.items():
            if k != "min_trials_required":
                raise SettingsError(f"unknown setting {k} for algorithm {cls.name}", setting=k, on_name=True)
            if int(v) <= 0:
                raise SettingsError("min_trials_required must be greater than zero (>0)", setting=k)


class Constructed:
    """Shaped like katibsim.early_stopping.EarlyStopping: validates in __init__(objective, settings)."""

    name = "constructed-stop"

    def __init__(self, objective, settings=None):
        for k in settings or {}:
            err = SpecError(f"unknown setting {k} for algorithm {self.name}")
            err.setting, err.message = k, f"unknown setting {k} for algorithm {self.name}"
            raise err


def test_validate_early_stopping(runtime_plugin):
    runtime_plugin("stops", katibsim_register_early_stopping=lambda register: (register(WithValidator), register(Constructed)))
    assert algorithm_factory.validate_early_stopping(experiment()) == []
    assert algorithm_factory.validate_early_stopping(experiment(early_stopping="validated-stop", early_settings={"min_trials_required": "2"})) == []
    (err,) = algorithm_factory.validate_early_stopping(experiment(early_stopping="validated-stop", early_settings={"min_trials_required": "0"}))
    assert (err.path, err.value) == ("spec.earlyStopping.algorithmSettings[0].value", "0")
    (err,) = algorithm_factory.validate_early_stopping(experiment(early_stopping="constructed-stop", early_settings={"x": "1"}))
    assert (err.path, err.message) == ("spec.earlyStopping.algorithmSettings[0].name", "unknown setting x for algorithm constructed-stop")
    (err,) = algorithm_factory.validate_early_stopping(experiment(early_stopping="meanstop"))
    assert err.path == "spec.earlyStopping.algorithmName" and "validated-stop" in err.message


# -- corrected, predicted failures, the missing-step message ------------------------------------------


def test_build_algorithm_sets_corrected_before_any_suggest():
    assert algorithm_factory.build_algorithm(experiment(), seed=1).corrected is False
    assert algorithm_factory.build_algorithm(experiment(), seed=1, corrected=True).corrected is True


class Predicts(DoublesOnly):
    name = "predicts"
    answer: list = []

    def predicted_failures(self):
        return list(type(self).answer)


def test_predicted_failures_become_warnings_and_a_bad_answer_is_named(runtime_plugin):
    runtime_plugin("predicts-plugin", katibsim_register_algorithms=lambda register: register(Predicts))
    exp = experiment(pspec("lr", "double", min="0.01", max="0.1"), algorithm="predicts")
    Predicts.answer = [FieldError("spec.parameters[0]", "Katib's service will fail")]
    (w,) = algorithm_factory.validate_algorithm(exp)
    assert (w.severity, w.path, w.message) == ("warning", "spec.parameters[0]", "Katib's service will fail")
    Predicts.answer = ["not a FieldError"]
    (err,) = algorithm_factory.validate_algorithm(exp)
    assert err.severity == "error" and "predicts-plugin" in err.message and "must return FieldErrors" in err.message
    Predicts.answer = []
    assert algorithm_factory.validate_algorithm(exp) == []


class NeedsStep(DoublesOnly):
    name = "needs-step"
    capabilities = Capabilities(parameter_types=frozenset({ParameterType.DOUBLE}), double_needs_step=True)


def test_the_missing_step_message_is_the_algorithms(runtime_plugin):
    runtime_plugin("needs-step-plugin", katibsim_register_algorithms=lambda register: register(NeedsStep))
    (err,) = algorithm_factory.validate_algorithm(experiment(pspec("lr", "double", min="0", max="1"), algorithm="needs-step"))
    assert err.path == "spec.parameters[0].feasibleSpace.step" and err.kind == "required"
    assert err.message == NeedsStep.missing_step_message("lr") and "needs-step" in err.message
