"""katibsim-bo: katibsim's own Gaussian-process Bayesian optimisation (model, acquisition, encoding, maximisation); not in Katib."""
