"""The conformance kit runs on every registered algorithm (built-ins and any later plugin)."""

from __future__ import annotations

import pytest

from katibsim import plugins
from katibsim.testing import checks_for

ALGORITHMS = list(plugins.algorithms().values())


def parametrize_with_checks(classes, **options):
    """The kit over every algorithm, minus the rules a Katib-named plugin breaks on purpose
    (its ``conformance_skip``: check name -> why; its own tests cover those otherwise)."""
    params = [
        pytest.param(call, id=f"{cls.name}-{name}")
        for cls in classes
        for name, call in checks_for(cls, skip=tuple(getattr(cls, "conformance_skip", {})), **options)
    ]
    return pytest.mark.parametrize("check", params)


def test_builtins_are_registered():
    assert {"random", "grid"} <= set(plugins.algorithms())


@parametrize_with_checks(ALGORITHMS)
def test_contract(check):
    check()


@pytest.mark.slow
@parametrize_with_checks(ALGORITHMS, max_examples=200)
def test_contract_many_examples(check):
    check()
