"""Registration: every built-in objective reaches katibsim through the plugin host."""

from __future__ import annotations

import numpy as np
import pytest

from katibsim import plugins
from katibsim.errors import SpecError
from katibsim.objective import Objective
from katibsim_plugins.objectives import plugin

NAMES = {
    "seed-1d", "branin", "hartmann3", "hartmann6", "ackley", "rosenbrock", "levy", "styblinski-tang",
    "six-hump-camel", "goldstein-price", "mnist-tfjob",
}


def test_the_hook_registers_every_objective_once_with_a_description():
    seen = []
    plugin.katibsim_register_objectives(lambda name, factory, description="": seen.append((name, factory, description)))
    assert [n for n, _, _ in seen] == [cls.name for cls in plugin.OBJECTIVES]
    assert set(n for n, _, _ in seen) == NAMES
    assert all(d for _, _, d in seen)


def test_the_host_knows_every_objective():
    found = plugins.objectives()
    assert NAMES <= set(found)
    assert plugins.load_errors() == [] or all("objectives" not in e.name for e in plugins.load_errors())


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_objective_is_reachable_through_get_objective(name):
    obj = plugins.get_objective(name)
    assert isinstance(obj, Objective) and obj.name == name
    x = obj.optimum_at[0]
    ev = obj.evaluate(x, np.random.default_rng(0))
    assert ev.curve and ev.curve[-1][1] == ev.value and ev.duration > 0


def test_options_pass_through_the_host():
    obj = plugins.get_objective("levy", dim="6", noise=0.1)
    assert len(obj.inputs) == 6 and obj.curve_model.noise == 0.1
    with pytest.raises(SpecError, match="unknown option"):
        plugins.get_objective("levy", nosie=0.1)


def test_docs_list_every_objective_and_option():
    from pathlib import Path

    from katibsim_plugins.objectives.mnist_tfjob import OPTIONS as MNIST_OPTIONS
    from katibsim_plugins.objectives.synthetic import COMMON_OPTIONS, DIM_OPTION

    text = (Path(__file__).resolve().parents[2] / "docs" / "objectives.md").read_text()
    for name in NAMES:
        assert f"| `{name}` |" in text, f"docs/objectives.md has no row for {name}"
    for option in (*COMMON_OPTIONS, *DIM_OPTION, *MNIST_OPTIONS):
        assert f"| `{option}` |" in text, f"docs/objectives.md does not document option {option}"
