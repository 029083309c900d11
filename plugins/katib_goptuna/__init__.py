"""Katib's goptuna suggestion service (``cmaes``, ``sobol``) rebuilt on Python's ``cmaes`` and ``scipy.stats.qmc``."""
