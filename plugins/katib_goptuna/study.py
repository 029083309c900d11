"""The in-memory goptuna study Katib's goptuna service keeps, and how it syncs Katib's trials into it.

Katib's service (``pkg/suggestion/v1beta1/goptuna/service.go``) builds one study on its first
``GetSuggestions`` and keeps it in memory. Each call it converts every trial Katib sends into a
goptuna state (Created and Running -> Running, Succeeded -> Complete with its objective value,
Failed -> Fail, EarlyStopped -> Pruned, anything else -> the error ``Unexpected Trial condition``)
and maps each one to a study trial: by name once known, else to the **newest running study trial
with equal parameters** not mapped yet (the service cannot know the names Katib will give its
suggestions). A trial it cannot map fails the whole call with ``Same parameter is not found for
Trial`` — what happens after the suggestion pod restarts. Then the state and value are copied over
(finished study trials are never changed again) and one new study trial is created per requested
assignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from katibsim.algorithm import Trial, TrialCondition
from katibsim.errors import SuggestionServiceFailure
from katibsim.spec.space import SearchSpace

RUNNING, COMPLETE, PRUNED, FAIL = "Running", "Complete", "Pruned", "Fail"

_STATE = {
    TrialCondition.CREATED: RUNNING,
    TrialCondition.RUNNING: RUNNING,
    TrialCondition.SUCCEEDED: COMPLETE,
    TrialCondition.FAILED: FAIL,
    TrialCondition.EARLY_STOPPED: PRUNED,
}
# Katib's api.proto names, for the error text.
_PROTO = {TrialCondition.KILLED: "KILLED", TrialCondition.METRICS_UNAVAILABLE: "UNKNOWN"}


@dataclass
class StudyTrial:
    """One goptuna trial: internal params (what samplers learn from) and the external key Katib sees."""

    id: int
    key: tuple[str, ...] = ()
    internal: dict[str, float] = field(default_factory=dict)
    state: str = RUNNING
    value: float | None = None
    system_attrs: dict[str, str] = field(default_factory=dict)


class Study:
    """The study and Katib's trial-name mapping (``trialMapping``)."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.trials: list[StudyTrial] = []
        self.mapping: dict[str, int] = {}  # Katib trial name -> study trial id
        self._mapped: set[int] = set()

    def new_trial(self) -> StudyTrial:
        t = StudyTrial(id=len(self.trials))
        self.trials.append(t)
        return t

    def sync(self, trials: Sequence[Trial], *, ignore_unknown: bool = False) -> None:
        """Katib's ``toGoptunaTrials`` + ``syncTrials``; raises SuggestionServiceFailure where Katib's call fails.

        ``ignore_unknown`` (katibsim's corrected behaviour) skips trials the study never suggested
        instead of failing, and leaves out Killed trials instead of rejecting the call.
        """
        converted = []
        for t in trials:
            state = _STATE.get(t.condition)
            if state is None:
                if ignore_unknown:
                    continue
                name = _PROTO.get(t.condition, str(t.condition).upper())
                raise SuggestionServiceFailure(
                    f"Unexpected Trial condition: {name}",
                    why=f"Katib's goptuna service maps only Created, Running, Succeeded, Failed and EarlyStopped trials "
                        f"to goptuna states; trial {t.name} is {t.condition}, so every GetSuggestions call fails "
                        "(toGoptunaState in pkg/suggestion/v1beta1/goptuna/converter.go)",
                    fix="avoid killed trials (do not lower parallelTrialCount while trials run), or run with --corrected")
            value = None
            if state == COMPLETE:
                value = t.value
                if value is None:
                    if ignore_unknown:
                        state = FAIL
                    else:
                        raise SuggestionServiceFailure(
                            f"No objective metric in Trial {t.name}",
                            why="Katib's goptuna service reads the objective value of every Succeeded trial and fails "
                                "the call when it cannot (getFinalMetric in converter.go)",
                            fix="make sure every trial reports the objective metric")
            converted.append((t, state, value))
        for t, state, value in converted:
            sid = self.mapping.get(t.name)
            if sid is None:
                sid = self._find(t)
                if sid is None:
                    if ignore_unknown:
                        continue
                    raise SuggestionServiceFailure(
                        f"Same parameter is not found for Trial: {t.name} {dict(self.space.format(t.assignment))}",
                        why="Katib's goptuna service keeps its study in memory and maps every trial back to one of its "
                            "own running trials by equal parameters; this trial was not suggested by this service "
                            "instance (the suggestion pod restarted, or the trial came from elsewhere), so every "
                            "GetSuggestions call fails (findGoptunaTrialIDByParam in sample.go)",
                        fix="restart the Experiment from scratch (a goptuna study cannot be rebuilt), or run with --corrected")
                self.mapping[t.name] = sid
                self._mapped.add(sid)
            st = self.trials[sid]
            if st.state != RUNNING or st.state == state:
                continue  # finished study trials are never updated
            if state == COMPLETE:
                st.value = value
            st.state = state

    def _find(self, t: Trial) -> int | None:
        try:
            key = self.space.key(t.assignment)
        except (KeyError, TypeError, ValueError):
            return None
        for st in reversed(self.trials):
            if st.state == RUNNING and st.id not in self._mapped and st.key == key:
                return st.id
        return None

    def completed(self) -> list[StudyTrial]:
        return [t for t in self.trials if t.state == COMPLETE]

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)
