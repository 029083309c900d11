"""The built-in ``sim`` backend: trials on a simulated clock (``katibsim.backends.sim.SimBackend``)."""

from __future__ import annotations

from katibsim.backends.sim import SimBackend
from katibsim.hookspecs import hookimpl


@hookimpl
def katibsim_register_backends(register):
    register("sim", SimBackend)
