"""The pytest11 plugin: loaded in any session, marks it as under test, offers the kit's option and fixture."""

from __future__ import annotations

import sys

pytest_plugins = ("pytester",)


def test_this_session_is_marked_as_under_test():
    assert getattr(sys, "_katibsim_called_from_test", False) is True


def test_option_and_fixture_in_a_third_party_session(pytester):
    pytester.makepyfile(
        test_theirs="""
        import numpy as np
        from katibsim.algorithm import Algorithm
        from katibsim.testing import checks


        class Mine(Algorithm):
            name = "mine"

            def suggest(self, trials, count):
                rng = np.random.default_rng([self.seed or 0, len(trials)])
                return [self.space.sample(rng) for _ in range(count)]


        def test_examples_option():
            assert checks.examples() == 3


        def test_fixture_runs_everything(check_algorithm):
            check_algorithm(Mine)
        """
    )
    from katibsim.testing import checks

    try:
        result = pytester.runpytest_inprocess("--katibsim-kit-examples", "3", "-p", "no:cacheprovider")
    finally:
        checks.configure(max_examples=None)  # the inner session set it for this process
    result.assert_outcomes(passed=2)
    assert checks.examples() == checks.DEFAULT_EXAMPLES
