"""Every hook is documented in docs/plugin-hooks.md and has a test here (datasette's meta-tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from katibsim import hookspecs, plugins
from katibsim.algorithm import Algorithm
from katibsim.hookspecs import hookimpl
from katibsim.objective import Evaluation, Objective

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin-hooks.md"


def hook_specs() -> dict[str, tuple[str, ...]]:
    return {
        name: caller.spec.argnames
        for name, caller in vars(plugins.pm.hook).items()
        if getattr(caller, "spec", None) is not None
    }


def test_hookspecs_module_defines_the_hooks_the_manager_knows():
    defined = {n for n in vars(hookspecs) if n.startswith("katibsim_")}
    assert defined == set(hook_specs())


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_every_hook_is_documented_with_its_signature(name):
    args = ", ".join(hook_specs()[name])
    headings = re.findall(r"^## (.+)$", DOC.read_text(), re.M)
    assert f"{name}({args})" in headings, f"docs/plugin-hooks.md needs a section '## {name}({args})'"


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_every_hook_has_a_test(name):
    assert callable(globals().get(f"test_hook_{name}")), f"add test_hook_{name} to {__file__}"


@pytest.fixture
def plugin():
    names = []

    def add(**hooks):
        name = f"hook-test-{len(names)}"
        plugins.pm.register(type(name, (), {k: staticmethod(hookimpl(v)) for k, v in hooks.items()}), name=name)
        names.append(name)
        return name

    yield add
    for n in names:
        plugins.pm.unregister(name=n)


class Echo(Algorithm):
    name = "echo-test"

    def suggest(self, trials, count):
        return [{p.name: p.sample(__import__("numpy").random.default_rng(0)) for p in self.space}] * count


class Stop:
    name = "stop-test"


class Flat(Objective):
    name = "flat-test"

    def evaluate(self, x, rng):
        return Evaluation(0.0)


def test_hook_katibsim_register_algorithms(plugin):
    who = plugin(katibsim_register_algorithms=lambda register: register(Echo))
    assert plugins.get_algorithm("echo-test") is Echo
    assert plugins.registration("algorithms", "echo-test").plugin == who


def test_hook_katibsim_register_early_stopping(plugin):
    plugin(katibsim_register_early_stopping=lambda register: register(Stop))
    assert plugins.get_early_stopping("stop-test") is Stop


def test_hook_katibsim_register_objectives(plugin):
    plugin(katibsim_register_objectives=lambda register: register("flat-test", Flat, "always zero"))
    assert isinstance(plugins.get_objective("flat-test"), Flat)
    assert plugins.objectives()["flat-test"].description == "always zero"


def test_hook_katibsim_register_backends(plugin):
    factory = lambda: "a backend"  # noqa: E731
    plugin(katibsim_register_backends=lambda register: register("nowhere-test", factory))
    assert plugins.get_backend("nowhere-test").factory() == "a backend"


def test_hook_katibsim_register_report_sections(plugin):
    plugin(katibsim_register_report_sections=lambda register: register("cost-test", lambda data: {"title": "Cost"}))
    assert plugins.report_sections()["cost-test"].build(None) == {"title": "Cost"}


def test_hook_katibsim_register_commands(plugin, capsys):
    def configure(parser):
        parser.add_argument("--who", default="world")

    def run(args):
        print(f"hello {args.who}")
        return 3

    plugin(katibsim_register_commands=lambda register: register("hello-test", configure, run, help="greets"))
    from katibsim.cli import main

    assert main(["hello-test", "--who", "katib"]) == 3
    assert capsys.readouterr().out == "hello katib\n"
