"""The conformance kit for algorithm plugins: named checks, hypothesis strategies, a pytest plugin.

A plugin author runs the whole suggestion contract in a few lines::

    from katibsim.testing import parametrize_with_checks
    from my_plugin import MyAlgorithm

    @parametrize_with_checks(MyAlgorithm)
    def test_contract(check):
        check()

Each check is also importable on its own (``check_in_space``, ``check_exact_count``, ...) and
``check_algorithm(MyAlgorithm)`` runs them all. See docs/writing-a-plugin.md.
"""

from katibsim.testing.checks import (
    CHECKS,
    check_algorithm,
    check_batch,
    check_declaration,
    check_deterministic,
    check_exact_count,
    check_history_unchanged,
    check_history_with_failed_nan_running_earlystopped,
    check_in_space,
    check_pickles,
    check_rebuild_same_answer,
    check_rejects_junk_settings,
    checks_for,
    parametrize_with_checks,
)

__all__ = [
    "CHECKS",
    "check_algorithm",
    "check_batch",
    "check_declaration",
    "check_deterministic",
    "check_exact_count",
    "check_history_unchanged",
    "check_history_with_failed_nan_running_earlystopped",
    "check_in_space",
    "check_pickles",
    "check_rebuild_same_answer",
    "check_rejects_junk_settings",
    "checks_for",
    "parametrize_with_checks",
]
