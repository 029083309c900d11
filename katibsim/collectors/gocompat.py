"""Go standard-library behaviour that Katib's collectors and DB rely on, redone in Python.

Katib's File/StdOut collector and its DB manager are written in Go; where Go's ``strconv``,
``strings`` and ``time`` differ from Python's defaults, the difference changes which metrics Katib
collects or which value is "latest" (docs/katib-behaviour.md §3.10, §6.2). Everything here is a pure function.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

# Katib's "no timestamp" value: Go's zero time.Time formatted as RFC3339 (§6.2).
ZERO_TIMESTAMP = "0001-01-01T00:00:00Z"

# Go's unicode.IsSpace (what strings.TrimSpace trims); Python's str.strip also trims \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def go_trim_space(s: str) -> str:
    """``strings.TrimSpace``."""
    return s.strip(_GO_SPACE)


_D = r"\d(?:_?\d)*"
_H = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
# Go's float literal syntax (ParseFloat accepts exactly it): "_" only between digits, or right
# after a hexadecimal prefix; a hexadecimal mantissa needs a "p" exponent.
_DEC_FLOAT = re.compile(rf"[+-]?(?:{_D}(?:\.(?:{_D})?)?|\.{_D})(?:[eE][+-]?{_D})?", re.ASCII)
_HEX_FLOAT = re.compile(rf"([+-]?)0[xX](?:_?({_H})(?:\.({_H})?)?|\.({_H}))[pP]([+-]?{_D})", re.ASCII)
_INF = re.compile(r"([+-]?)(?:inf|infinity)", re.ASCII | re.IGNORECASE)
_NAN = re.compile(r"nan", re.ASCII | re.IGNORECASE)


def go_parse_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)``; None where Go returns an error.

    Unlike Python's ``float``: no surrounding whitespace, no sign on ``NaN``, hexadecimal floats
    (with a ``p`` exponent) are accepted, and a finite literal that overflows is an error (Go
    returns ±Inf *and* ErrRange), so ``1e400`` is not a number for Katib.
    """
    if _NAN.fullmatch(s):
        return math.nan
    m = _INF.fullmatch(s)
    if m:
        return -math.inf if m.group(1) == "-" else math.inf
    if _DEC_FLOAT.fullmatch(s):
        value = float(s)
    else:
        m = _HEX_FLOAT.fullmatch(s)
        if not m:
            return None
        mantissa = f"{m.group(2) or '0'}.{m.group(3) or m.group(4) or ''}".replace("_", "")
        try:
            value = float.fromhex(f"{m.group(1)}0x{mantissa}p{m.group(5).replace('_', '')}")
        except OverflowError:
            return None
    if math.isinf(value):
        return None  # ErrRange
    return value


@dataclass(frozen=True, order=True)
class GoTime:
    """An instant as Go's time.Time keeps it: seconds since the Unix epoch and nanoseconds."""

    sec: int
    nsec: int = 0

    @property
    def micros(self) -> int:
        """Microseconds since the epoch, truncated: Katib's MySQL column is ``DATETIME(6)``."""
        return self.sec * 1_000_000 + self.nsec // 1000

    def format_rfc3339_nano(self) -> str:
        """``t.UTC().Format(time.RFC3339Nano)``: trailing zeros of the fraction dropped."""
        y, mo, d, h, mi, s = _civil(self.sec)
        frac = f"{self.nsec:09d}".rstrip("0")
        return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{'.' + frac if frac else ''}Z"


def _civil(sec: int) -> tuple[int, int, int, int, int, int]:
    days, rem = divmod(sec, 86400)
    # Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d, rem // 3600, rem % 3600 // 60, rem % 60


def go_unix(sec: int, nsec: int) -> GoTime:
    """``time.Unix(sec, nsec)``, which normalises nsec into [0, 1e9)."""
    if nsec < 0 or nsec >= 1_000_000_000:
        n = nsec // 1_000_000_000
        sec += n
        nsec -= n * 1_000_000_000
    return GoTime(sec, nsec)


def _days_from_civil(y: int, m: int, d: int) -> int:
    # Days since 1970-01-01 of a proleptic Gregorian date, year 0 included (as Go has it).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


ZERO_TIME = GoTime(_days_from_civil(1, 1, 1) * 86400, 0)

# Go's time.Parse(RFC3339Nano, s) tries a strict fast path, then its general layout parser, which
# also takes a one-digit hour, a comma before the fraction (then at most 9 digits) and zone
# offsets up to 24:60. Lower-case "t"/"z", "+0100" and a missing zone are errors.
_RFC3339_FAST = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
_RFC3339_SLOW = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def go_parse_rfc3339(s: str) -> GoTime | None:
    """``time.Parse(time.RFC3339Nano, s)`` (Go 1.24, Katib's go.mod); None where Go errs."""
    m = _RFC3339_FAST.fullmatch(s) or _RFC3339_SLOW.fullmatch(s)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    tz = m.group(8)
    if tz != "Z":
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 24 or om > 60:
            return None
        offset = (oh * 3600 + om * 60) * (-1 if tz[0] == "-" else 1)
    sec = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return GoTime(sec - offset, int((m.group(7) or "")[:9].ljust(9, "0")))


def go_format_float(f: float) -> str:
    """``strconv.FormatFloat(f, 'f', -1, 64)``: shortest round-trip digits, never an exponent."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    text = format(Decimal(repr(f)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_INT64_MAX = 2**63 - 1


def go_parse_int64(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)``; None on error (syntax or range)."""
    if not re.fullmatch(r"[+-]?\d+", s, re.ASCII):
        return None
    v = int(s)
    return v if -(2**63) <= v <= _INT64_MAX else None
