"""Registers the built-in simulated objectives with katibsim (entry point ``objectives`` of group ``katibsim``)."""

from __future__ import annotations

from katibsim.hookspecs import hookimpl
from katibsim.objective import Objective

from .mnist_tfjob import MnistTfjob
from .synthetic import FUNCTION_OBJECTIVES

# Every objective this plugin provides; the class is the factory: ``cls(**options)``.
OBJECTIVES: tuple[type[Objective], ...] = (*FUNCTION_OBJECTIVES, MnistTfjob)


@hookimpl
def katibsim_register_objectives(register):
    """Register each built-in objective under its name, with its one-line description."""
    for cls in OBJECTIVES:
        register(cls.name, cls, description=cls.description)
