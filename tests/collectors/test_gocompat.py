"""Go's ParseFloat, time.Parse(RFC3339Nano) and FormatFloat as Katib's Go code sees them.

The expected values were produced by running the Go standard library (go1.19 locally; the
RFC3339 differences of Go ≥ 1.20, which Katib's go.mod uses, are noted where they apply).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim.collectors.gocompat import (
    ZERO_TIME,
    ZERO_TIMESTAMP,
    go_format_float,
    go_parse_float,
    go_parse_rfc3339,
    go_trim_space,
    go_unix,
)

PARSE_FLOAT = [
    ("1_000", 1000.0), ("1_000.5", 1000.5), ("1__0", None), ("1_.5", None), ("1e1_0", 1e10), ("_1", None),
    ("0x1p-2", 0.25), ("0x_1p4", 16.0), ("0x1.8p1", 3.0), ("0x1", None), ("+nan", None), ("NaN", "nan"),
    ("-Inf", -math.inf), ("+infinity", math.inf), ("infinit", None), ("1e400", None), ("1e-400", 0.0),
    (" 1", None), ("1.", 1.0), (".5", 0.5), (".", None), ("", None), ("-", None), ("+.5e-3", 0.0005),
    ("1e", None), ("0x.p1", None), ("0x1_p1", None), ("1_e5", None), ("0.98", 0.98), ("-7.53e-05", -7.53e-05),
]


@pytest.mark.parametrize("text,expected", PARSE_FLOAT)
def test_parse_float_matches_go(text, expected):
    got = go_parse_float(text)
    if expected == "nan":
        assert got is not None and math.isnan(got)
    else:
        assert got == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_float_reads_python_reprs(x):
    assert go_parse_float(repr(x)) == x


RFC3339 = [
    ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
    ("2024-01-02T3:04:05Z", "2024-01-02T03:04:05Z"),  # the general parser takes a 1-digit hour
    ("2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05.5Z"),
    ("2024-01-02T03:04:05.1234567891Z", "2024-01-02T03:04:05.123456789Z"),  # Go >= 1.20 fast path
    ("2024-01-02T03:04:05,1234567891Z", None),
    ("2024-02-30T03:04:05Z", None),
    ("0000-02-29T00:00:00Z", "0000-02-29T00:00:00Z"),
    ("2024-01-02t03:04:05Z", None),
    ("2024-01-02T03:04:05z", None),
    ("2024-01-02T03:04:05+24:00", "2024-01-01T03:04:05Z"),
    ("2024-01-02T03:04:05+23:60", "2024-01-01T03:04:05Z"),
    ("2024-01-02T24:00:00Z", None),
    ("2024-01-02T03:04:60Z", None),
    ("2024-01-02T03:04:05+0100", None),
    ("2024-01-02T03:04:05.Z", None),
    ("2024-01-02T03:04:05", None),
    ("2021-12-02T14:27:50.000035161+09:00", "2021-12-02T05:27:50.000035161Z"),
    (ZERO_TIMESTAMP, ZERO_TIMESTAMP),
]


@pytest.mark.parametrize("text,expected", RFC3339)
def test_rfc3339_matches_go(text, expected):
    t = go_parse_rfc3339(text)
    assert (t.format_rfc3339_nano() if t else None) == expected


def test_zero_time_sorts_before_everything():
    assert go_parse_rfc3339(ZERO_TIMESTAMP) == ZERO_TIME
    assert ZERO_TIME.micros < go_parse_rfc3339("1970-01-01T00:00:00Z").micros == 0


@pytest.mark.parametrize(
    "value,expected",
    [(1700000000.5, "1700000000.5"), (1700000000.0, "1700000000"), (1e21, "1000000000000000000000"), (1e-7, "0.0000001"), (-1.5, "-1.5")],
)
def test_format_float_f_minus_one(value, expected):
    assert go_format_float(value) == expected


def test_unix_normalises_nanoseconds():
    assert go_unix(1, 1_500_000_000) == go_unix(2, 500_000_000)
    assert go_unix(-1, 5).format_rfc3339_nano() == "1969-12-31T23:59:59.000000005Z"


def test_trim_space_is_gos():
    assert go_trim_space("\u00a0 x \t\r") == "x"
    assert go_trim_space("\x1cx") == "\x1cx"  # Python's strip would remove the separator
