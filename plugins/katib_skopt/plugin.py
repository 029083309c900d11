"""Katib's ``bayesianoptimization``: scikit-optimize's Optimizer, driven exactly as Katib's skopt service drives it.

The plugin is one live suggestion pod (:class:`.service.SkoptService`): built on the first
``suggest``, it keeps skopt's Optimizer, the count of told trials and their names between calls,
as Katib's pod does; a new plugin object is a restarted pod. Settings and their messages are
Katib's ValidateAlgorithmSettings (:mod:`.settings`). Katib's failures are raised as
:class:`katibsim.errors.SuggestionServiceFailure` with what, why and the fix
(:mod:`.failures`), and :meth:`predicted_failures` lists those visible in the Experiment.
Under ``--corrected`` (``self.corrected``) the fixed service runs instead: distributions
honoured, no repeated points, durations told for EIps / PIps (docs/algorithms.md).
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

from threadpoolctl import ThreadpoolController

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, Trial
from katibsim.errors import FieldError, SuggestionServiceFailure
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import ParameterType, SearchSpace, Value

from . import failures
from .service import SkoptService
from .settings import SETTINGS_SPEC, convert, validate
from .space import from_skopt

_THREADS = ThreadpoolController()


class KatibBayesianOptimization(Algorithm):
    name = "bayesianoptimization"
    description = (
        "Katib's bayesianoptimization: scikit-optimize 0.10.2 Optimizer called as Katib's skopt service calls it "
        "(every double log-uniform, n_initial_points counted in told trials, ask(n) with constant liar, cached "
        "until the next tell)"
    )
    capabilities = Capabilities(batch=True)
    settings_spec = SETTINGS_SPEC
    #: One of Katib's algorithms (``katibsim plugins`` lists it under Katib's).
    katib_algorithm = True
    #: Conformance-kit rules Katib's service breaks on purpose (check name: why). The kit runs
    #: them on the corrected service instead (tests/katib_algorithms/test_skopt_conformance.py).
    kit_exempt = {
        "check_rebuild_same_answer": "Katib's pod keeps skopt's Optimizer in memory: a restarted pod re-tells "
                                     "every trial at once and answers differently",
        "check_in_space": "Katib makes every double log-uniform: a drawn range containing 0 fails the service",
        "check_exact_count": "as check_in_space",
        "check_deterministic": "as check_in_space",
        "check_history_with_failed_nan_running_earlystopped": "as check_in_space",
        "check_batch": "the kit's large space has a double in [0, 1], which Katib's service refuses",
    }

    def __init__(
        self,
        space: SearchSpace,
        objective: ObjectiveInfo,
        settings: Mapping[str, str] | None = None,
        seed: int | None = None,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> None:
        # Katib checks the settings in the order given and answers with the first problem,
        # unknown keys included, so its validation runs before the base class's.
        validate({k: str(v) for k, v in (settings or {}).items()})
        super().__init__(space, objective, settings, seed, max_trial_count=max_trial_count,
                         parallel_trial_count=parallel_trial_count)
        self.config = convert(self.settings, seed)
        self.service: SkoptService | None = None

    def restart(self) -> None:
        """A pod restart: the Optimizer, the told count and the recorded names are gone."""
        self.service = None

    def predicted_failures(self) -> list[FieldError]:
        return failures.predicted(self.space, self.config, max_trials=self.max_trial_count,
                                  parallel=self.parallel_trial_count)

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        if count <= 0:
            return []  # Katib calls GetSuggestions only when it needs trials
        if self.service is None or self.service.corrected != bool(self.corrected):
            self.service = SkoptService(self.space, self.objective.maximize, self.config, corrected=bool(self.corrected))
        with _THREADS.limit(limits=1, user_api="blas"), warnings.catch_warnings():
            # skopt warns about repeated points and sklearn about convergence; the host counts
            # duplicates itself, and library warnings are not katibsim's output.
            warnings.simplefilter("ignore")
            try:
                points = self.service.get_suggestions(trials, count)
            except SuggestionServiceFailure:
                raise
            except Exception as exc:  # noqa: BLE001 - any library error is a failure of Katib's service
                raise failures.explain(exc, self.space, self.config, corrected=bool(self.corrected)) from exc
        for point in points:
            for p, v in zip(self.space, point):
                if p.type == ParameterType.DOUBLE and not math.isfinite(float(v)):
                    raise failures.nan_failure(self.space)
        return [from_skopt(self.space, list(point)) for point in points]


@hookimpl
def katibsim_register_algorithms(register):
    register(KatibBayesianOptimization)
