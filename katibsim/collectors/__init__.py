"""Katib's metrics collectors (StdOut, File TEXT/JSON, TensorFlowEvent) as pure functions.

Backends call :func:`collect` when a trial ends, or drive :class:`TextLineParser` /
:class:`JsonLineParser` while it runs (with :class:`CollectorEarlyStopper` for Katib's
early-stopping rules) and finish with :func:`finish_text` / :func:`finish_json`.
Semantics: ``docs/katib-behaviour.md`` §6 and §3.10 (bare § numbers in this package cite it); user documentation: ``docs/metrics.md``.
"""

from katibsim.collectors.collect import SUPPORTED_KINDS, collect, file_format, finish_json, finish_text
from katibsim.collectors.early_stop import CollectorEarlyStopper, StopDecision, StopRule
from katibsim.collectors.goregex import DEFAULT_FILTER, GoRegexError
from katibsim.collectors.json_file import JsonLineParser
from katibsim.collectors.model import UNAVAILABLE, CollectionResult, Explanation, MetricLog, RawMetric
from katibsim.collectors.text import TextLineParser, compile_filters
from katibsim.collectors.tfevent import TensorboardMissing

__all__ = [
    "DEFAULT_FILTER",
    "SUPPORTED_KINDS",
    "UNAVAILABLE",
    "CollectionResult",
    "CollectorEarlyStopper",
    "Explanation",
    "GoRegexError",
    "JsonLineParser",
    "MetricLog",
    "RawMetric",
    "StopDecision",
    "StopRule",
    "TensorboardMissing",
    "TextLineParser",
    "collect",
    "compile_filters",
    "file_format",
    "finish_json",
    "finish_text",
]
