"""Scenario files: an experiment, an objective, variants, seeds and assertions in one YAML document.

The schema is documented in ``docs/scenarios.md``. The package is split by job:

- :mod:`~katibsim.scenario.model`: the frozen dataclasses and what follows from them (a
  variant's Experiment document, run keys, the parameter mapping);
- :mod:`~katibsim.scenario.reader` (with :mod:`~katibsim.scenario.fields` and
  :mod:`~katibsim.scenario.read_assertions`): YAML -> model, every problem at its field path;
- :mod:`~katibsim.scenario.preflight`: the checks that need the plugins (algorithms, settings,
  objectives, Katib's validation), and the backend-aware loader;
- :mod:`~katibsim.scenario.work`: how much work a comparison is, and the limit on it.

The names below are the public API (``from katibsim.scenario import ...``).
"""

from katibsim.scenario.model import (
    AGGREGATES,
    INVARIANT_CHECKS,
    OVERRIDE_FIELDS,
    PAIRED_TESTS,
    Assertion,
    BaselineAssertion,
    Count,
    InvariantAssertion,
    ObjectiveRef,
    PairedAssertion,
    ReportOptions,
    Scenario,
    SeedSpec,
    Sweep,
    Target,
    TargetAssertion,
    ThresholdAssertion,
    Variant,
)
from katibsim.scenario.preflight import (build_run, check_scenario, load_scenarios, objective_remarks, problems, read,
                                        scenario_from_dict)
from katibsim.scenario.reader import placeholder_template

__all__ = [
    "AGGREGATES",
    "Assertion",
    "BaselineAssertion",
    "Count",
    "INVARIANT_CHECKS",
    "InvariantAssertion",
    "ObjectiveRef",
    "OVERRIDE_FIELDS",
    "PAIRED_TESTS",
    "PairedAssertion",
    "ReportOptions",
    "Scenario",
    "SeedSpec",
    "Sweep",
    "Target",
    "TargetAssertion",
    "ThresholdAssertion",
    "Variant",
    "build_run",
    "check_scenario",
    "objective_remarks",
    "load_scenarios",
    "placeholder_template",
    "problems",
    "read",
    "scenario_from_dict",
]
