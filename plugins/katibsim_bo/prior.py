"""Hyperparameter priors of the GP (log densities up to a constant, with gradients in log space).

The GP's hyperparameters are optimised in log space: ``theta = [log eta_1..d, log scale, log noise]``
where ``eta_j = 1 / lengthscale_j**2`` (inputs in the unit cube, outputs standardised). The priors
keep the maximum-a-posteriori fit away from the degenerate corners that sink plain maximum
likelihood with 10-40 points: length-scales so long a dimension is ignored before the data say so,
or so short the model interpolates noise; a noise that swallows the signal.

- inverse squared length-scale: ``log p(eta) = -(a / eta + b * eta)`` (peaks at eta = sqrt(a/b));
- kernel scale: Gamma(2, 1) (``log s - s``), mode at 1 = the variance of standardised outputs;
- noise variance: Gamma(1.1, 30) (``0.1 log n - 30 n``), i.e. small unless the data insist.

These are the shapes Optuna's GPSampler uses (docs/benchmarks.md#peers); the length-scale constants are
settings here (``ls_prior_a``/``ls_prior_b`` in :class:`Prior`) and the defaults are the ones
measured best in ``benchmarks/bo_vs_peers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prior:
    ls_a: float = 0.1
    ls_b: float = 0.1
    scale_shape: float = 2.0
    scale_rate: float = 1.0
    noise_shape: float = 1.1
    noise_rate: float = 30.0

    def logp(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log prior density and its gradient with respect to ``theta`` (log parameters)."""
        d = theta.size - 2
        eta = np.exp(theta[:d])
        s = np.exp(theta[d])
        nz = np.exp(theta[d + 1])
        lp = -np.sum(self.ls_a / eta + self.ls_b * eta)
        g = np.empty_like(theta)
        g[:d] = self.ls_a / eta - self.ls_b * eta
        lp += (self.scale_shape - 1.0) * theta[d] - self.scale_rate * s
        g[d] = (self.scale_shape - 1.0) - self.scale_rate * s
        lp += (self.noise_shape - 1.0) * theta[d + 1] - self.noise_rate * nz
        g[d + 1] = (self.noise_shape - 1.0) - self.noise_rate * nz
        return float(lp), g
