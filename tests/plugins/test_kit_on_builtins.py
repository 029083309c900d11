"""The conformance kit runs on every registered algorithm (built-ins and any later plugin).

A Katib-named algorithm may declare ``kit_katib_breaks`` (check name -> why): rules of the kit
that Katib's own service breaks and that the plugin therefore breaks too. Those are skipped here
and run on the plugin's ``--corrected`` behaviour in tests/katib_algorithms/test_conformance.py.
"""

from __future__ import annotations

import pytest

from katibsim import plugins
from katibsim.testing import checks_for

ALGORITHMS = list(plugins.algorithms().values())


def test_builtins_are_registered():
    assert {"random", "tpe", "grid", "multivariate-tpe"} <= set(plugins.algorithms())


def contract(max_examples: int | None = None):
    params, ids = [], []
    for cls in ALGORITHMS:
        skip = tuple(getattr(cls, "kit_katib_breaks", {}))
        for name, call in checks_for(cls, max_examples=max_examples, skip=skip):
            params.append(call)
            ids.append(f"{cls.name}-{name}")
    return pytest.mark.parametrize("check", params, ids=ids)


def test_katib_breaks_name_real_checks_with_a_reason():
    from katibsim.testing import CHECKS

    known = {c.__name__ for c in CHECKS}
    for cls in ALGORITHMS:
        for check, why in getattr(cls, "kit_katib_breaks", {}).items():
            assert check in known and why, (cls.name, check)


@contract()
def test_contract(check):
    check()


@pytest.mark.slow
@contract(max_examples=200)
def test_contract_many_examples(check):
    check()
