"""Katib's hyperopt suggestion service (``random`` and ``tpe``, hyperopt 0.2.5) as katibsim algorithms."""
