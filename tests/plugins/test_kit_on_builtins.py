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


def _params(max_examples, exempt_examples=None):
    """Every check of every algorithm; an exempt one (``kit_exempt``: Katib's behaviour breaks the
    rule) is an expected failure, run with ``exempt_examples`` (default ``max_examples``), unshrunk."""
    out = []
    for cls in ALGORITHMS:
        exempt = dict(getattr(cls, "kit_exempt", {}) or {})
        assert all(isinstance(why, str) and why for why in exempt.values()), cls
        settings = getattr(cls, "kit_settings", None)
        expected = dict(checks_for(cls, settings=settings, max_examples=exempt_examples or max_examples, skip=exempt))
        for name, call in checks_for(cls, settings=settings, max_examples=max_examples, skip=exempt):
            why = call.expected_failure
            if why:
                call = expected[name]
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


# The default suite: 20 examples per enforced property check, 5 per expected failure (it cannot fail
# the suite: it reports xfail, or XPASS once the rule holds). Most of the kit's time went to the
# expected failures of Katib's slow services (pbt, grid, multivariate-tpe, sobol); every check of
# every algorithm still runs. The slow profile below runs 200 examples of every check.
@pytest.mark.parametrize("check", _params(max_examples=20, exempt_examples=5))
def test_contract(check):
    check()


@pytest.mark.slow
@pytest.mark.parametrize("check", _params(max_examples=200))
def test_contract_many_examples(check):
    check()
