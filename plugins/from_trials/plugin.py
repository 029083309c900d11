"""Registers the ``from-trials`` objective and the ``katibsim surrogate`` command (entry point ``from_trials``)."""

from __future__ import annotations

from katibsim.hookspecs import hookimpl

from . import command
from .objective import FromTrials


@hookimpl
def katibsim_register_objectives(register):
    register(FromTrials.name, FromTrials, description=FromTrials.description)


@hookimpl
def katibsim_register_commands(register):
    register(command.NAME, command.configure, command.run, help=command.HELP)
