"""Katib's ``bayesianoptimization``: Katib's skopt suggestion service, reproduced on scikit-optimize 0.10.2."""
