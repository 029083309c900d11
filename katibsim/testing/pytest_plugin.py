"""The katibsim pytest plugin (entry point ``pytest11``): test isolation and the conformance kit's options.

Loaded by pytest in every session where katibsim is installed. Importing it marks the process
as "under test" *before* anything imports :mod:`katibsim.plugins`, so the plugin host loads only
katibsim's own plugins and no foreign entry points (datasette's ``sys._called_from_test``);
name a plugin in ``KATIBSIM_LOAD_PLUGINS`` to load it anyway.
"""

from __future__ import annotations

import sys

# Must run at import time: the plugin manager is built when katibsim.plugins is first imported.
sys._katibsim_called_from_test = True  # type: ignore[attr-defined]
