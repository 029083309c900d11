"""File collector with format JSON: string values only, whole-file failure, timestamps."""

from __future__ import annotations

import pytest

from katibsim.collectors import JsonLineParser, collect, finish_json
from katibsim.collectors.gocompat import ZERO_TIMESTAMP
from katibsim.collectors.json_file import json_timestamp
from katibsim.errors import InputError
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

JSON = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path="/m.json", kind="File", format="JSON"))


def run(text, names=("acc", "loss")):
    return collect(JSON, list(names), text=text)


def test_strings_are_taken_numbers_ignored_with_a_warning():
    text = '{"acc": "0.93", "loss": 0.22}\n{"acc": 0.95, "loss": "0.14"}\n{"acc": "0.96"}\n'
    result = run(text)
    assert [(log.name, log.value) for log in result.logs] == [("acc", "0.93"), ("loss", "0.14"), ("acc", "0.96")]
    warning = next(w for w in result.warnings if "JSON numbers ignored" in w)
    assert "'loss' on line 1" in warning and "'acc' on line 2" in warning and "0.95" in warning
    reasons = result.explanations[1].reasons
    assert any("JSON number 0.95" in r and '"acc": "0.95"' in r for r in reasons)


def test_only_numbers_means_metrics_unavailable():
    result = run('{"acc": 0.9}\n{"acc": 0.95}\n')
    assert result.condition_hint == "MetricsUnavailable"
    assert result.logs[0].value == "unavailable" and result.logs[0].timestamp == ZERO_TIMESTAMP
    assert any("JSON numbers ignored" in w for w in result.warnings)


def test_other_types_are_ignored():
    result = run('{"acc": true, "loss": null}\n{"acc": ["0.9"], "loss": {"v": "1"}}')
    assert result.condition_hint == "MetricsUnavailable"
    assert "a boolean" in result.explanations[0].reasons[0]


@pytest.mark.parametrize(
    "bad",
    ['"acc": "0.9"', "[1, 2]", "   ", "\r", '{"acc": NaN}', '{"acc": "1"} trailing', '{"acc": 1e400}', '"text"'],
)
def test_one_unreadable_line_fails_the_whole_file(bad):
    result = run('{"acc": "0.9"}\n' + bad + '\n{"acc": "0.95"}\n')
    assert not result.reported and result.collector_error
    assert result.logs == () and not result.objective_collected
    assert result.explanations[1].reasons[0].startswith("error:")


def test_empty_and_null_lines_are_harmless():
    result = run('\n{"acc": "0.9"}\n\nnull\n{"acc": "0.8"}\r\n')
    assert result.reported and result.raw("acc").latest == "0.8"


def test_keys_are_exact():
    result = run('{"Acc": "0.9", " acc": "0.8"}')
    assert result.condition_hint == "MetricsUnavailable"
    assert "key 'Acc' is not 'acc'" in result.explanations[0].reasons[0]


@pytest.mark.parametrize(
    "raw,expected",
    [
        # Katib's own test data: the fraction digits become nanoseconds.
        (1638422847.28721, "2021-12-02T05:27:27.000028721Z"),
        (1638422847.287801, "2021-12-02T05:27:27.000287801Z"),
        (1638422847.0, "2021-12-02T05:27:27Z"),
        ("2021-12-02T14:27:50.000035161Z", "2021-12-02T14:27:50.000035161Z"),
        ("2021-12-02T14:27:50.000035161+09:00", "2021-12-02T14:27:50.000035161+09:00"),  # kept as written
        ("invalid", None),
        ("", None),
        (True, None),
    ],
)
def test_timestamps(raw, expected):
    assert json_timestamp(raw) == expected


def test_nanosecond_quirk_reorders_latest():
    # 100.5 → 100 s + 5 ns and 100.25 → 100 s + 25 ns: both truncate to the same microsecond in
    # Katib's DB, so the later line wins the tie; 101.0 is later than both.
    text = '{"acc": "0.1", "timestamp": 101.0}\n{"acc": "0.2", "timestamp": 100.25}\n{"acc": "0.3", "timestamp": 100.5}'
    result = run(text)
    assert result.raw("acc").latest == "0.1"
    assert any("nanoseconds" in r for e in result.explanations for r in e.reasons)


def test_filters_are_refused_with_json():
    spec = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(kind="File", format="JSON"), metrics_format=("(a)(b)",))
    with pytest.raises(InputError, match="filter must be nil"):
        collect(spec, ["acc"], text="{}")


def test_incremental_json_parser_matches_whole_parse():
    text = '{"acc": "0.9"}\n{"acc": "0.95", "loss": "0.1"}'
    parser = JsonLineParser(["acc", "loss"])
    seen = parser.feed(text[:10]) + parser.feed(text[10:]) + parser.close()
    assert [log.value for log in seen] == ["0.9", "0.95", "0.1"]
    assert finish_json(parser).logs == run(text).logs


def test_a_year_10000_epoch_makes_katibs_db_refuse_the_report():
    # Go formats time.Unix(253402300800, 0) as "10000-01-01T00:00:00Z", which its own RFC3339 parser
    # (4-digit years only) refuses: RegisterObservationLog fails and nothing is recorded.
    result = run('{"acc": "0.9", "timestamp": 253402300800}\n')
    assert not result.reported
    assert "10000-01-01T00:00:00Z" in result.collector_error and "line 1" in result.collector_error
    # the same instant as a string is simply no timestamp (time.Parse fails in the collector)
    result = run('{"acc": "0.9", "timestamp": "10000-01-01T00:00:00Z"}\n')
    assert result.reported and result.logs[0].timestamp == ZERO_TIMESTAMP
    # the last second of year 9999 is fine
    assert run('{"acc": "0.9", "timestamp": 253402300799}\n').logs[0].timestamp == "9999-12-31T23:59:59Z"
