"""The experiment engine: Katib's controller semantics on a simulated (or real) clock.

Entry points: :func:`katibsim.engine.run.simulate` (one run -> a
:class:`katibsim.engine.result.RunResult`), :class:`katibsim.engine.options.SimulationOptions`,
and :mod:`katibsim.engine.status` for the Katib-shaped objects. See docs/simulation.md.
"""
