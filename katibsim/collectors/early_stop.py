"""Early stopping inside Katib's File/StdOut collector, applied to lines as a trial prints them.

Katib's ``watchMetricsFile`` (docs/katib-behaviour.md §6.5), which runs only when the trial has stop rules:
- TEXT: a line is looked at only if it contains a *rule's* metric name; every filter match on it
  must have a value that parses as a float — **any** match, even of another name
  (``phase=train`` next to ``accuracy=0.5``): otherwise the collector crashes;
- JSON: every line must decode (an empty line crashes it too); a rule's key is used only when its
  value is a string, which must parse as a float;
- for the objective metric, the value compared is the best so far (max for maximize, min for
  minimize);
- a rule with ``startStep`` > 0 counts reports of its metric and is checked only at exactly the
  ``startStep``-th one (never again); without a startStep it is checked on every report;
- equal: v == rule; less: v < rule; greater: v > rule. A satisfied rule is removed; when none is
  left the trial is early stopped (Katib kills the training process, then reports the metrics).

The rule list is kept the way Katib's Go slice behaves, so several rules on one line resolve
in Katib's order (a removed rule is replaced by the last one, which the same loop may then see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from katibsim.collectors.gocompat import go_parse_float, go_trim_space
from katibsim.collectors.goregex import find_all_submatch
from katibsim.collectors.json_file import go_json_object
from katibsim.collectors.text import TextFilters, compile_filters
from katibsim.errors import InputError

COMPARISONS = ("equal", "less", "greater")


@dataclass(frozen=True)
class StopRule:
    """One ``earlyStoppingRules`` entry of a Trial: ``name``, ``value`` (a string), comparison, startStep."""

    name: str
    value: str
    comparison: str
    start_step: int = 0

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise InputError(f"early stopping rule comparison must be one of {', '.join(COMPARISONS)}, not {self.comparison!r}")


_EMPTY_RULE = StopRule(name="", value="", comparison="equal")


@dataclass(frozen=True)
class StopDecision:
    """The collector's verdict after a line: stop now, or crash (with Katib's fatal message)."""

    stop: bool = False
    crash: str | None = None
    line: int | None = None


class CollectorEarlyStopper:
    """Feed the trial's output line by line; ``stopped`` turns True when all rules are met.

    Once stopped or crashed, further lines are ignored. ``crash`` carries the reason Katib's
    collector would exit with (it then reports nothing and the pod fails).
    """

    def __init__(
        self,
        rules: Sequence[StopRule],
        metric_names: Sequence[str],
        objective_type: str,
        *,
        file_format: str = "TEXT",
        filters: TextFilters | Sequence[str] | None = None,
    ):
        if not rules:
            raise InputError("CollectorEarlyStopper needs at least one rule")
        if file_format not in ("TEXT", "JSON"):
            raise InputError(f"format must be TEXT or JSON, not {file_format!r}")
        self.objective = metric_names[0] if metric_names else ""
        self.objective_type = objective_type
        self.file_format = file_format
        self.filters = filters if isinstance(filters, TextFilters) else compile_filters(filters)
        # A Go slice: the backing array and the current length (see the module docstring).
        self._rules: list[StopRule] = list(rules)
        self._len = len(rules)
        self._start_step = {r.name: r.start_step for r in rules if r.start_step != 0}
        self._optimal: float | None = None
        self._lineno = 0
        self.stopped = False
        self.crash: str | None = None
        self.stopped_at: int | None = None

    @property
    def remaining(self) -> tuple[StopRule, ...]:
        return tuple(self._rules[: self._len])

    def feed_lines(self, lines: Iterable[str]) -> StopDecision:
        decision = StopDecision()
        for line in lines:
            decision = self.feed_line(line)
            if decision.stop or decision.crash:
                break
        return decision

    def feed_line(self, line: str) -> StopDecision:
        """One line of the metrics file (without its newline)."""
        if self.stopped or self.crash:
            return StopDecision(stop=self.stopped, crash=self.crash, line=self.stopped_at)
        self._lineno += 1
        try:
            if self.file_format == "TEXT":
                self._text_line(line)
            else:
                self._json_line(line)
        except _Crash as crash:
            self.crash = f"line {self._lineno}: {crash}"
            return StopDecision(crash=self.crash, line=self._lineno)
        if self._len == 0:
            self.stopped = True
            self.stopped_at = self._lineno
            return StopDecision(stop=True, line=self._lineno)
        return StopDecision()

    def _text_line(self, line: str) -> None:
        if not any(r.name in line for r in self._rules[: self._len]):
            return
        for regex in self.filters.regexes:
            if regex is None:
                raise _Crash("a metricsFormat filter does not compile (nil regexp)")
            for _, _, groups in find_all_submatch(regex, line):
                if len(groups) < 3:
                    continue
                name = go_trim_space(groups[1])
                value = go_parse_float(go_trim_space(groups[2]))
                if value is None:
                    raise _Crash(f"Unable to parse value {go_trim_space(groups[2])!r} to float for metric {name}")
                self._apply(name, value)

    def _json_line(self, line: str) -> None:
        try:
            obj = go_json_object(line)
        except ValueError as err:
            raise _Crash(f"Failed to unmarshal logs in JSON format, log: {line!r}, error: {err}") from None
        if not any(r.name in obj for r in self._rules[: self._len]):
            return
        for idx in range(self._len):
            rule = self._rules[idx]
            raw = obj.get(rule.name)
            if not isinstance(raw, str):
                continue
            value = go_parse_float(go_trim_space(raw))
            if value is None:
                raise _Crash(f"Unable to parse value {raw!r} to float for metric {rule.name}")
            self._update(value, rule, idx)

    def _apply(self, name: str, value: float) -> None:
        # Go's `for idx, rule := range stopRules` reads the backing array with the length fixed
        # at the start of the loop, while updates shrink the slice in place.
        for idx in range(self._len):
            rule = self._rules[idx]
            if name != rule.name:
                continue
            self._update(value, rule, idx)

    def _update(self, value: float, rule: StopRule, idx: int) -> None:
        if rule.name == self.objective:
            if self._optimal is None:
                self._optimal = value
            elif self.objective_type == "maximize" and value > self._optimal:
                self._optimal = value
            elif self.objective_type == "minimize" and value < self._optimal:
                self._optimal = value
            value = self._optimal
        if rule.name in self._start_step:
            self._start_step[rule.name] -= 1
            if self._start_step[rule.name] != 0:
                return
        threshold = go_parse_float(rule.value)
        if threshold is None:
            raise _Crash(f"Unable to parse value {rule.value!r} to float for rule metric {rule.name}")
        if (
            (rule.comparison == "equal" and value == threshold)
            or (rule.comparison == "less" and value < threshold)
            or (rule.comparison == "greater" and value > threshold)
        ):
            if idx >= self._len:
                raise _Crash(f"Index {idx} out of range stopRules")
            self._rules[idx] = self._rules[self._len - 1]
            self._rules[self._len - 1] = _EMPTY_RULE
            self._len -= 1


class _Crash(Exception):
    pass
