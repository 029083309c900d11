"""Every pluggy hook katibsim offers, and nothing else. Reading this file is the whole extension surface.

Each ``katibsim_register_*`` hook receives a ``register`` callback; call it once per thing the
plugin provides. Registering a name twice (in one plugin or two) is an error naming both plugins.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("katibsim")
hookimpl = pluggy.HookimplMarker("katibsim")


@hookspec
def katibsim_register_algorithms(register):
    """Register suggestion algorithms: ``register(AlgorithmSubclass)`` keyed by its ``name``
    (the Experiment's ``spec.algorithm.algorithmName``)."""


@hookspec
def katibsim_register_early_stopping(register):
    """Register early-stopping algorithms: ``register(EarlyStoppingSubclass)`` keyed by its
    ``name`` (``spec.earlyStopping.algorithmName``, e.g. ``medianstop``)."""


@hookspec
def katibsim_register_objectives(register):
    """Register simulated objectives: ``register(name, factory, description=...)`` where
    ``factory(**options)`` returns a :class:`katibsim.objective.Objective`."""


@hookspec
def katibsim_register_backends(register):
    """Register trial backends (where trials run: ``sim``, ``local``, ``kind``):
    ``register(name, factory)``."""


@hookspec
def katibsim_register_report_sections(register):
    """Register extra comparison-report sections: ``register(name, build)`` where
    ``build(report_data)`` returns a section (title, markdown, figures)."""


@hookspec
def katibsim_register_commands(register):
    """Register extra CLI subcommands: ``register(name, configure, run, help=...)`` where
    ``configure(argparse_parser)`` adds options and ``run(args) -> int`` returns the exit code."""
