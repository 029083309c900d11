"""The katibsim pytest plugin (entry point ``pytest11``): test isolation and the conformance kit's options.

Loaded by pytest in every session where katibsim is installed. Importing it marks the process
as "under test" *before* anything imports :mod:`katibsim.plugins`, so the plugin host loads only
katibsim's own plugins and no foreign entry points (datasette's ``sys._called_from_test``);
name a plugin in ``KATIBSIM_LOAD_PLUGINS`` to load it anyway.
"""

from __future__ import annotations

import sys

# Must run at import time: the plugin manager is built when katibsim.plugins is first imported.
sys._katibsim_called_from_test = True  # type: ignore[attr-defined]

import pytest  # noqa: E402


def pytest_addoption(parser) -> None:
    group = parser.getgroup("katibsim", "katibsim conformance kit")
    group.addoption(
        "--katibsim-kit-examples",
        type=int,
        default=None,
        metavar="N",
        help="hypothesis examples per property check of the algorithm kit (default 10, or $KATIBSIM_KIT_EXAMPLES)",
    )


def pytest_configure(config) -> None:
    n = config.getoption("--katibsim-kit-examples", default=None)
    if n is not None:
        from katibsim.testing import checks

        checks.configure(max_examples=n)


@pytest.fixture
def check_algorithm():
    """``check_algorithm(MyAlgorithm, settings=...)`` runs every check of the kit in one test."""
    from katibsim.testing.checks import check_algorithm as run

    return run
