"""The conformance kit runs on every registered algorithm (built-ins and any later plugin).

An algorithm class may declare ``kit_settings`` (the settings to build it with) and ``kit_exempt``
(check name -> why its Katib behaviour breaks that rule, e.g. a service that keeps its state in
memory); every other check runs.
"""

from __future__ import annotations

import pytest

from katibsim import plugins
from katibsim.testing import checks_for

ALGORITHMS = list(plugins.algorithms().values())


def _params(max_examples=None):
    out = []
    for cls in ALGORITHMS:
        exempt = dict(getattr(cls, "kit_exempt", {}) or {})
        assert all(isinstance(why, str) and why for why in exempt.values()), cls
        settings = getattr(cls, "kit_settings", None)
        # An exempt check (Katib's behaviour breaks the rule) runs as an expected failure: only its
        # verdict is reported (xfail, or XPASS once the rule holds), so it is not shrunk to a minimal example.
        unshrunk = dict(checks_for(cls, settings=settings, max_examples=max_examples, skip=exempt, shrink=False))
        for name, call in checks_for(cls, settings=settings, max_examples=max_examples, skip=exempt):
            why = call.expected_failure
            if why:
                call = unshrunk[name]
            marks = [pytest.mark.xfail(reason=why, strict=False)] if why else []
            out.append(pytest.param(call, id=f"{cls.name}-{name}", marks=marks))
    return out


def test_builtins_are_registered():
    assert {"random", "tpe", "grid", "multivariate-tpe"} <= set(plugins.algorithms())


def test_kit_exempt_names_real_checks_with_a_reason():
    from katibsim.testing import CHECKS

    known = {c.__name__ for c in CHECKS}
    for cls in ALGORITHMS:
        for check, why in (getattr(cls, "kit_exempt", {}) or {}).items():
            assert check in known and why, (cls.name, check)


# 20 examples per check in the default suite (every algorithm x every check is ~400 properties, some on
# slow libraries); the slow profile below runs 200.
@pytest.mark.parametrize("check", _params(max_examples=20))
def test_contract(check):
    check()


@pytest.mark.slow
@pytest.mark.parametrize("check", _params(max_examples=200))
def test_contract_many_examples(check):
    check()
