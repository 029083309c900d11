"""Katib's Optuna suggestion service (``grid`` and ``multivariate-tpe``, Optuna 3.3.0) as katibsim algorithms."""
