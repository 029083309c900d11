"""Number and text formatting shared by the Markdown and HTML renderers (one place decides how 0.00012 looks)."""

from __future__ import annotations

import math
from typing import Any, Mapping

__all__ = ["num", "seconds", "settings_text", "iqr", "verdict_word"]


def num(x: Any, digits: int = 4) -> str:
    """A number for a table: integers as integers, others with ``digits`` significant digits,
    infinity as "never" (a target not reached), nan as "–"."""
    if x is None:
        return "–"
    if isinstance(x, str):
        if x == "inf":
            return "never"
        if x == "nan":
            return "–"
        return x
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "never" if x > 0 else "−∞"
    if x.is_integer() and abs(x) < 1e9:
        return str(int(x))
    return f"{x:.{digits}g}"


def seconds(x: Any) -> str:
    """Simulated seconds in a readable unit (s, min, h)."""
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return num(x)
    x = float(x)
    if abs(x) < 120:
        return f"{x:.0f} s"
    if abs(x) < 7200:
        return f"{x / 60:.1f} min"
    return f"{x / 3600:.2f} h"


def iqr(summary: Mapping[str, float], digits: int = 3) -> str:
    """``median [q25, q75]``."""
    return f"{num(summary.get('median'), digits)} [{num(summary.get('q25'), digits)}, {num(summary.get('q75'), digits)}]"


def settings_text(settings: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> str:
    parts = [f"{k}={v}" for k, v in settings.items()]
    parts += [f"{k}={num(v)}" for k, v in (overrides or {}).items()]
    return ", ".join(parts) if parts else "defaults"


def verdict_word(passed: bool) -> str:
    return "PASS" if passed else "FAIL"
