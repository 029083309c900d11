"""Shared pytest set-up: hypothesis profiles.

``default`` keeps the property tests fast enough for every run; ``slow`` (``make test-slow``,
``HYPOTHESIS_PROFILE=slow``) fuzzes with many more examples. The profile is chosen by the
environment variable ``HYPOTHESIS_PROFILE``. Under CI (``CI=true``) the default is ``ci``: the
same examples as ``default`` but derandomized, so a CI verdict never depends on the luck of the
draw; local runs keep exploring new examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "slow", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True)
_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ci else "default"))
