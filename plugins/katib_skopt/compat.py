"""Run scikit-optimize 0.10.2 on this project's numpy 2 and scikit-learn >= 1.6, as it runs in Katib.

Katib's skopt image pins numpy 1.23.5 and scikit-learn <= 1.3.0
(``cmd/suggestion/skopt/v1beta1/requirements.txt``). katibsim needs numpy 2, where two parts of
skopt 0.10.2 stop working; both concern only the ``GBRT`` surrogate:

* scikit-learn >= 1.6 decides ``is_regressor`` from estimator tags, and skopt's
  ``GradientBoostingQuantileRegressor`` only sets the old ``_estimator_type`` attribute, so
  ``Optimizer(base_estimator="GBRT")`` raises "... has to be a regressor." Katib's service accepts it.
* numpy 2.4 removed ``np.in1d``, which the regressor's ``predict`` calls; ``np.isin`` is the same
  function under its current name.

:func:`install` restores what Katib's versions do, touching nothing outside skopt's GBRT module.
"""

from __future__ import annotations

import types

import numpy as np

_installed = False


def install() -> None:
    """Idempotent; call before building an Optimizer."""
    global _installed
    if _installed:
        return
    from sklearn.base import is_regressor
    from skopt.learning import gbrt

    cls = gbrt.GradientBoostingQuantileRegressor
    if not is_regressor(cls()):
        def __sklearn_tags__(self):  # noqa: N807 - scikit-learn's protocol name
            tags = super(cls, self).__sklearn_tags__()
            tags.estimator_type = "regressor"
            return tags

        cls.__sklearn_tags__ = __sklearn_tags__
    if not hasattr(gbrt.np, "in1d"):
        # A namespace for skopt's gbrt module only: numpy itself is left as it is.
        shim = types.ModuleType("numpy_with_in1d")
        shim.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
        shim.in1d = np.isin
        gbrt.np = shim
    _installed = True
