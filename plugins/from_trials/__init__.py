"""``from-trials``: a simulated objective learned from a real experiment's finished trials.

``encoding`` (inputs in the unit cube, the covered region, extrapolation), ``regressors`` (the
Gaussian process and the random forest, both with a JSON form), ``neighbours`` (the learning-curve
and duration models), ``surrogate`` (fitting a table, the model file), ``quality``
(cross-validation), ``objective`` (the ``Objective``), ``command`` (``katibsim surrogate``),
``plugin`` (registration). See ``docs/surrogate.md``.
"""
