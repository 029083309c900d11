"""Which variants' runs hit a failure of Katib's own suggestion service (pure; no I/O).

A Katib-named plugin raises ``SuggestionServiceFailure`` where Katib's service would fail; the run
then records it in ``RunResult.katib_failures``. Such a run says nothing about the algorithm's
quality (Katib never created the trials), so the report names it before anything else.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from katibsim.report.model import KatibServiceFailure

__all__ = ["katib_service_failures"]


def katib_service_failures(envelopes: Iterable[Mapping[str, Any]]) -> tuple[KatibServiceFailure, ...]:
    """The distinct failures per variant (first seen first), with how many runs each hit."""
    found: dict[tuple[str, str, str, str], int] = {}
    for env in envelopes:
        variant = str(env.get("variant", ""))
        seen_here = set()
        for f in (env.get("result") or {}).get("katib_failures") or ():
            key = (variant, str(f.get("message", "")), str(f.get("why", "")), str(f.get("fix", "")))
            if key not in seen_here:
                seen_here.add(key)
                found[key] = found.get(key, 0) + 1
    return tuple(KatibServiceFailure(v, m, w, fx, n) for (v, m, w, fx), n in found.items())
