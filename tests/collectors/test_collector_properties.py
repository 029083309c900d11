"""Properties: collection never raises on arbitrary logs, and every line gets an explanation."""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from katibsim.collectors import UNAVAILABLE, collect
from katibsim.collectors.gocompat import go_parse_float
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

STDOUT = MetricsCollectorSpec(kind="StdOut")
JSON = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(kind="File", format="JSON"))
names = st.lists(st.sampled_from(["accuracy", "loss", "Validation-accuracy", "a|b", "acc"]), min_size=1, max_size=3, unique=True)
noise = st.text(alphabet=st.sampled_from(list("accuracylossVvalid-|=:.,{}'\" \t\r0123456789eE+-nan\n")), max_size=120)


@given(names, noise)
def test_text_collection_is_total(metric_names, text):
    result = collect(STDOUT, metric_names, text=text)
    assert len(result.explanations) == text.count("\n") + 1
    assert [m.name for m in result.raw_metrics] == metric_names
    objective = result.raw(metric_names[0])
    assert (result.condition_hint == "MetricsUnavailable") == (objective.latest == UNAVAILABLE)
    taken = [log for e in result.explanations for log in e.taken]
    assert taken == list(result.collected)
    for m in result.raw_metrics:  # min <= max whenever both are numbers (NaN aside)
        lo, hi = go_parse_float(m.min), go_parse_float(m.max)
        if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
            assert lo <= hi


@given(names, st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["accuracy", "loss", "acc", "timestamp", "Acc"]),
                    st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6), st.none(), st.booleans()), max_size=4),
    st.just(None)), max_size=6), st.booleans())
@example(["accuracy"], [{"accuracy": "0.5", "timestamp": 253402300800.0}], False)  # 10000-01-01T00:00:00Z
def test_json_collection_is_total(metric_names, objects, garbage):
    import json

    lines = [json.dumps(o) for o in objects] + (["{not json"] if garbage else [])
    result = collect(JSON, metric_names, text="\n".join(lines))
    if garbage:
        assert not result.reported
    elif not result.reported:
        # Katib's contract for an epoch beyond year 9999 (or before year 0): Go formats it with a
        # 5-digit (or negative) year that its own RFC3339 parser refuses, so the DB manager
        # refuses the whole report and nothing is recorded.
        assert "DB manager cannot parse the timestamp" in result.collector_error
        stamps = [o["timestamp"] for o in objects if o and isinstance(o.get("timestamp"), float)]
        assert any(t >= 253402300800 or t < -62167219200 for t in stamps)
    if result.reported:
        strings = [(k, v) for o in objects if o for k, v in o.items() if k in metric_names and isinstance(v, str)]
        assert len(result.collected) == len(strings)
