"""bayesianoptimization: Gaussian-process Bayesian optimisation (model, acquisition, encoding, maximisation)."""
