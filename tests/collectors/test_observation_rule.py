"""The report rule, the DB order and getMetrics' min / max / latest (docs/katib-behaviour.md §3.10, §6.2)."""

from __future__ import annotations

from katibsim.collectors import UNAVAILABLE, MetricLog
from katibsim.collectors.gocompat import ZERO_TIMESTAMP
from katibsim.collectors.observation import metrics_unavailable, raw_metrics, report, to_observation

Z = ZERO_TIMESTAMP


def logs(*items):
    return [MetricLog(timestamp=t, name=n, value=v) for t, n, v in items]


def test_objective_missing_replaces_the_whole_report():
    found = logs((Z, "loss", "0.3"))
    reported = report(found, ["acc", "loss"], unavailable_timestamp=Z)
    assert reported == (MetricLog(Z, "acc", UNAVAILABLE),)
    metrics = raw_metrics(reported, ["acc", "loss"])
    assert metrics_unavailable(metrics, "acc")
    assert [m.to_dict() for m in metrics] == [
        {"name": "acc", "min": UNAVAILABLE, "max": UNAVAILABLE, "latest": UNAVAILABLE},
        {"name": "loss", "min": UNAVAILABLE, "max": UNAVAILABLE, "latest": UNAVAILABLE},
    ]


def test_min_max_keep_original_strings_and_use_else_if():
    m = raw_metrics(logs((Z, "acc", "5"), (Z, "acc", "3.0"), (Z, "acc", "1e1"), (Z, "acc", "4")), ["acc"])[0]
    assert (m.min, m.max, m.latest) == ("3.0", "1e1", "4")


def test_first_value_sets_both_min_and_max():
    m = raw_metrics(logs((Z, "acc", "0.5")), ["acc"])[0]
    assert (m.min, m.max, m.latest) == ("0.5", "0.5", "0.5")


def test_non_numeric_values_never_touch_min_max_but_can_be_latest():
    m = raw_metrics(logs((Z, "acc", "0.5"), (Z, "acc", "")), ["acc"])[0]
    assert (m.min, m.max, m.latest) == ("0.5", "0.5", "")
    assert not metrics_unavailable([m], "acc")  # Katib only checks for the word "unavailable"
    assert to_observation([m]).get("acc").latest is None


def test_nan_first_pins_min_and_max():
    m = raw_metrics(logs((Z, "acc", "NaN"), (Z, "acc", "0.1"), (Z, "acc", "9")), ["acc"])[0]
    assert (m.min, m.max) == ("NaN", "NaN")


def test_latest_follows_time_not_line_order():
    m = raw_metrics(
        logs(("2024-01-01T00:00:02Z", "acc", "0.2"), ("2024-01-01T00:00:01Z", "acc", "0.1"), (Z, "acc", "0.0")), ["acc"]
    )[0]
    assert m.latest == "0.2"


def test_ties_at_microsecond_precision_keep_report_order():
    m = raw_metrics(
        logs(("2024-01-01T00:00:00.0000011Z", "acc", "a1"), ("2024-01-01T00:00:00.0000019Z", "acc", "0.5"), ("2024-01-01T00:00:00.000001Z", "acc", "0.4")),
        ["acc"],
    )[0]
    assert m.latest == "0.4"  # all three are 00:00:00.000001 in DATETIME(6)


def test_timezones_compare_as_instants():
    m = raw_metrics(logs(("2024-01-01T10:00:00+09:00", "acc", "0.9"), ("2024-01-01T02:00:00Z", "acc", "0.1")), ["acc"])[0]
    assert m.latest == "0.1"  # 02:00Z is after 01:00Z


def test_numeric_view():
    obs = to_observation(raw_metrics(logs((Z, "acc", "0.5"), (Z, "acc", "0.7")), ["acc", "loss"]))
    assert obs.get("acc").min == 0.5 and obs.get("acc").max == 0.7 and obs.get("acc").latest == 0.7
    assert obs.get("loss").latest is None
