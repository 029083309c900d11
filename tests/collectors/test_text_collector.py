"""StdOut / File TEXT collection with Katib's semantics (docs/katib-behaviour.md §6.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim.collectors import GoRegexError, TextLineParser, collect, finish_text
from katibsim.collectors.gocompat import ZERO_TIMESTAMP
from katibsim.collectors.text import compile_filters, parse_text
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

STDOUT = MetricsCollectorSpec(kind="StdOut")
KATIB_STYLE = r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"


def pairs(text, names, filters=None):
    return [(log.name, log.value, log.timestamp) for log in parse_text(text, names, filters).logs]


@pytest.mark.parametrize(
    "line,value",
    # The examples in the comment of Katib's DefaultFilter.
    [("loss=0.3", "0.3"), ("loss=.98", ".98"), ("loss=-7.53e-05", "-7.53e-05"), ("loss=-7.53e+05", "-7.53e+05"),
     ("loss=1E0", "1E0"), ("loss=1.23E10", "1.23E10"), ("loss = 0.5", "0.5"), ("loss=+2", "+2")],
)
def test_default_filter_values(line, value):
    assert pairs(line, ["loss"]) == [("loss", value, ZERO_TIMESTAMP)]


def test_several_metrics_per_line_and_order():
    assert pairs("epoch=1 accuracy=0.5 loss=0.7, accuracy=0.6", ["accuracy", "loss"]) == [
        ("accuracy", "0.5", ZERO_TIMESTAMP),
        ("loss", "0.7", ZERO_TIMESTAMP),
        ("accuracy", "0.6", ZERO_TIMESTAMP),
    ]


def test_timestamp_at_line_start_only_if_rfc3339_before_first_space():
    text = "\n".join(
        [
            "2024-03-04T17:55:08Z accuracy=0.1",
            "2024-03-04T17:55:08.123+01:00 accuracy=0.2",
            "2024-03-04 17:55:08 accuracy=0.3",  # first token is a date only
            "2024-03-04T17:55:08Z\taccuracy=0.4",  # no space at all: no timestamp
            " 2024-03-04T17:55:08Z accuracy=0.5",  # leading space: empty first token
            "[2024-03-04T17:55:08Z] accuracy=0.6",
        ]
    )
    assert [log.timestamp for log in parse_text(text, ["accuracy"]).logs] == [
        "2024-03-04T17:55:08Z",
        "2024-03-04T17:55:08.123+01:00",
        ZERO_TIMESTAMP,
        ZERO_TIMESTAMP,
        ZERO_TIMESTAMP,
        ZERO_TIMESTAMP,
    ]


@pytest.mark.parametrize(
    "line",
    ["accuracy: 0.9", "Accuracy=0.9", "accuracy 0.9", "{'accuracy': 0.9}", '{"accuracy": 0.9}', "val_accuracy=0.9",
     "train-accuracy=0.9", "epoch 2|accuracy=0.9", "accuracy_1=0.9"],
)
def test_lines_katib_does_not_take(line):
    assert pairs(line, ["accuracy"]) == []


def test_names_must_be_equal_and_allow_dash_and_pipe():
    assert pairs("Validation-accuracy=0.9 a|b=1", ["Validation-accuracy", "a|b"]) == [
        ("Validation-accuracy", "0.9", ZERO_TIMESTAMP),
        ("a|b", "1", ZERO_TIMESTAMP),
    ]


def test_value_part_can_be_empty_or_truncated():
    # The value group of the default filter may match nothing: Katib logs "" (or a prefix).
    assert pairs("accuracy=nan\naccuracy=abc\naccuracy=0.9e\naccuracy=95%\naccuracy=1.5.3", ["accuracy"]) == [
        ("accuracy", "", ZERO_TIMESTAMP),
        ("accuracy", "", ZERO_TIMESTAMP),
        ("accuracy", "0.9", ZERO_TIMESTAMP),
        ("accuracy", "95", ZERO_TIMESTAMP),
        ("accuracy", "1.5", ZERO_TIMESTAMP),
    ]


def test_lines_without_a_metric_name_are_skipped_before_matching():
    # "loss" is not a metric here, so the line is never matched even though it has name=value.
    assert pairs("loss=0.1", ["accuracy"]) == []


def test_crlf_lines_still_parse():
    assert pairs("2024-03-04T17:55:08Z accuracy=0.5\r\naccuracy=0.6\r\n", ["accuracy"]) == [
        ("accuracy", "0.5", "2024-03-04T17:55:08Z"),
        ("accuracy", "0.6", ZERO_TIMESTAMP),
    ]


def test_user_filter_katib_style_and_invalid_values():
    good = "2024-03-04T17:55:08Z INFO {metricName: accuracy, metricValue: 0.8078};{metricName: loss, metricValue: 0.5183}\n{metricName: loss, metricValue: 0.8671}"
    assert pairs(good, ["accuracy", "loss"], [KATIB_STYLE]) == [
        ("accuracy", "0.8078", "2024-03-04T17:55:08Z"),
        ("loss", "0.5183", "2024-03-04T17:55:08Z"),
        ("loss", "0.8671", ZERO_TIMESTAMP),
    ]
    bad = "{metricName: accuracy, metricValue: .333}\n{metricName: accuracy, metricValue: - 345.333}\n{metricName: accuracy, metricValue: 888.}"
    result = collect(MetricsCollectorSpec(kind="StdOut", metrics_format=(KATIB_STYLE,)), ["accuracy", "loss"], text=bad)
    assert result.condition_hint == "MetricsUnavailable"
    assert [(log.name, log.value) for log in result.logs] == [("accuracy", "unavailable")]


def test_user_filters_replace_the_default():
    spec = MetricsCollectorSpec(kind="StdOut", metrics_format=(r"([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?)",))
    result = collect(spec, ["accuracy"], text="accuracy=0.5\naccuracy: 0.7")
    assert [(log.name, log.value) for log in result.logs] == [("accuracy", "0.7")]


def test_filter_with_one_group_passes_katibs_check_but_takes_nothing():
    spec = MetricsCollectorSpec(kind="StdOut", metrics_format=(r"(accuracy)=(?:\d+)(?:x)?",))
    result = collect(spec, ["accuracy"], text="accuracy=5")
    assert result.condition_hint == "MetricsUnavailable"
    assert "fewer than two capturing groups" in " ".join(result.explanations[0].reasons)


def test_filter_rejected_by_katibs_webhook():
    with pytest.raises(GoRegexError, match="two top subexpressions"):
        compile_filters([r"(\w+)=\d+"])
    with pytest.raises(GoRegexError, match="Perl syntax"):
        compile_filters([r"(?<=x)(a)(b)"])


def test_semicolon_in_a_filter_is_split_by_katib():
    # Katib joins metricsFormat with ";" and splits again: "(a;b)" becomes "(a" and "b)".
    spec = MetricsCollectorSpec(kind="StdOut", metrics_format=(r"([\w|-]+)(?:=|;)(\d+)",))
    result = collect(spec, ["accuracy"], text="accuracy=1")
    assert result.collector_error and "';'" in result.collector_error
    assert not result.reported and not result.objective_collected and result.condition_hint is None

    # Pieces that still compile are just more filters (with fewer groups: ignored).
    spec = MetricsCollectorSpec(kind="StdOut", metrics_format=(r"(\w+)=(\d+);(x)(y)",))
    result = collect(spec, ["accuracy"], text="accuracy=1")
    assert result.reported and result.raw("accuracy").latest == "1"
    assert any("contains ';'" in w for w in result.warnings)


def test_file_collector_text_reads_the_file(tmp_path):
    path = tmp_path / "metrics.log"
    path.write_text("accuracy=0.4\naccuracy=0.9\naccuracy=0.7\n")
    spec = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path="/var/log/katib/metrics.log", kind="File", format="TEXT"))
    result = collect(spec, ["accuracy"], path=path)
    assert result.raw("accuracy").to_dict() == {"name": "accuracy", "min": "0.4", "max": "0.9", "latest": "0.7"}
    assert result.observation.get("accuracy").latest == 0.7


def test_missing_metrics_file_means_no_report(tmp_path):
    spec = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(kind="File", format="TEXT"))
    result = collect(spec, ["accuracy"], path=tmp_path / "nope.log")
    assert not result.reported and "fails to open" in result.collector_error


@given(st.lists(st.sampled_from(["accuracy=0.5", "loss=1e-3 accuracy=.7", "noise", "accuracy: 2", "", "x=1"]), max_size=12), st.data())
def test_incremental_parser_equals_whole_parse(lines, data):
    text = "\n".join(lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=5)))
    parser = TextLineParser(["accuracy", "loss"])
    streamed = []
    last = 0
    for cut in cuts + [len(text)]:
        streamed.extend(parser.feed(text[last:cut]))
        last = cut
    streamed.extend(parser.close())
    whole = parse_text(text, ["accuracy", "loss"]).logs
    assert streamed == whole
    assert finish_text(parser).logs == collect(STDOUT, ["accuracy", "loss"], text=text).logs


def test_explanations_say_why():
    text = "epoch 1\naccuracy: 0.9\nAccuracy=0.9\nval_accuracy=0.9\naccuracy=0.8\n{'accuracy': 0.9}\naccuracy 0.9"
    result = collect(STDOUT, ["accuracy"], text=text)
    by_line = {e.line: e for e in result.explanations}
    assert not by_line[1].relevant
    assert "default filter needs name=value" in by_line[2].reasons[0] and "metricsFormat" in by_line[2].reasons[0]
    assert "case-sensitive" in by_line[3].reasons[0]
    assert "'val_accuracy'" in by_line[4].reasons[0]
    assert by_line[5].is_taken and by_line[5].taken[0].value == "0.8"
    assert "dict or JSON" in by_line[6].reasons[0]
    assert "no '='" in by_line[7].reasons[0]
    assert all(not e.is_taken for n, e in by_line.items() if n != 5)
