"""The built-in ``local`` backend: trials as real processes on this machine (``katibsim.backends.local.LocalBackend``)."""

from __future__ import annotations

from katibsim.backends.local import LocalBackend
from katibsim.hookspecs import hookimpl


@hookimpl
def katibsim_register_backends(register):
    register("local", LocalBackend)
