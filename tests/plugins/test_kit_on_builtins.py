"""The conformance kit runs on every registered algorithm (built-ins and any later plugin)."""

from __future__ import annotations

import pytest

from katibsim import plugins
from katibsim.testing import parametrize_with_checks

ALGORITHMS = list(plugins.algorithms().values())


def test_builtins_are_registered():
    assert {"random", "grid"} <= set(plugins.algorithms())


@parametrize_with_checks(ALGORITHMS)
def test_contract(check):
    check()


@pytest.mark.slow
@parametrize_with_checks(ALGORITHMS, max_examples=200)
def test_contract_many_examples(check):
    check()
