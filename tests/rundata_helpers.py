"""Hand-made runs for the compare and report tests (no engine needed).

Imported as `rundata_helpers`: pytest puts `tests/` on sys.path (rootdir-style `prepend`
import of `tests/conftest.py`; test folders have no `__init__.py`).
"""

from __future__ import annotations

from katibsim.report.rundata import RunData, TrialRecord


def make_run(variant, seed_index, values, *, maximize=True, parallel=1, duration=10.0, optimum=None, **kw):
    """A run whose trials end one after another (or ``parallel`` at a time), values in order."""
    trials = []
    xs = kw.pop("xs", None)
    for i, v in enumerate(values):
        start = (i // parallel) * duration
        x = float(i) if xs is None else xs[i]
        trials.append(TrialRecord(i + 1, f"{variant}-{i}", {"x": x}, v, "Succeeded", start, start + duration))
    return RunData(
        variant=variant,
        seed_index=seed_index,
        seed=1000 + seed_index,
        maximize=maximize,
        trials=tuple(trials),
        parallel_trial_count=parallel,
        max_trial_count=len(values),
        optimum=optimum,
        end_time=trials[-1].end if trials else 0.0,
        reason="ExperimentMaxTrialsReached",
        **kw,
    )
