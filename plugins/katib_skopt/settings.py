"""Katib's skopt settings: ``OptimizerConfiguration`` (validation and conversion), message for message.

Source: ``pkg/suggestion/v1beta1/skopt/service.py`` (``_validate_bayesianoptimization_setting``,
``convert_algorithm_spec``). Katib checks the settings in the order the Experiment lists them and
answers with the first problem; every value is a string and the numbers go through ``int()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from katibsim.algorithm import SettingsError, SettingSpec

ALGORITHM = "bayesianoptimization"
BASE_ESTIMATORS = ("GP", "RF", "ET", "GBRT")
ACQ_FUNCS = ("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps")
ACQ_OPTIMIZERS = ("auto", "sampling", "lbfgs")


@dataclass(frozen=True)
class SkoptConfig:
    """The arguments Katib's service passes to ``skopt.Optimizer`` (its defaults when unset)."""

    base_estimator: str = "GP"
    n_initial_points: int = 10
    acq_func: str = "gp_hedge"
    acq_optimizer: str = "auto"
    random_state: int | None = None


SETTINGS_SPEC: tuple[SettingSpec, ...] = (
    SettingSpec("base_estimator", "GP", "Surrogate of skopt's Optimizer: GP (Gaussian process), RF (random forest), "
                "ET (extra trees) or GBRT (gradient-boosted quantile trees)."),
    SettingSpec("n_initial_points", "10", "Random points before the model is used, counted in *told* trials "
                "(Succeeded / EarlyStopped), not in created ones (>= 0)."),
    SettingSpec("acq_func", "gp_hedge", "gp_hedge, LCB, EI, PI, EIps or PIps (skopt's defaults: kappa 1.96, xi 0.01; "
                "Katib cannot change them). EIps/PIps fail in Katib's service (see docs)."),
    SettingSpec("acq_optimizer", "auto", "auto, sampling or lbfgs (auto: lbfgs for GP, sampling for the trees; "
                "lbfgs with RF/ET/GBRT fails in Katib's service)."),
    SettingSpec("random_state", None, "Seed of skopt's numpy RandomState (int >= 0). Unset in Katib: numpy's global "
                "state, a different run on every pod start; katibsim then uses the run's seed."),
)


def _error(message: str, key: str) -> SettingsError:
    return SettingsError(message, setting=key)


def validate(settings: Mapping[str, str]) -> None:
    """Katib's ValidateAlgorithmSettings for bayesianoptimization: the first problem, in the given order."""
    for key, value in settings.items():
        try:
            if key == "base_estimator":
                if value not in BASE_ESTIMATORS:
                    raise _error(f"base_estimator {value} is not supported in Bayesian optimization", key)
            elif key == "n_initial_points":
                if not int(value) >= 0:
                    raise _error("n_initial_points should be great or equal than zero", key)
            elif key == "acq_func":
                if value not in ACQ_FUNCS:
                    raise _error(f"acq_func {value} is not supported in Bayesian optimization", key)
            elif key == "acq_optimizer":
                if value not in ACQ_OPTIMIZERS:
                    raise _error(f"acq_optimizer {value} is not supported in Bayesian optimization", key)
            elif key == "random_state":
                if not int(value) >= 0:
                    raise _error("random_state should be great or equal than zero", key)
            else:
                raise SettingsError(f"unknown setting {key} for algorithm {ALGORITHM}", setting=key, on_name=True)
        except SettingsError:
            raise
        except Exception as exc:  # noqa: BLE001 - Katib's own catch-all, and its wording
            raise _error(f"failed to validate {key}({value}): {exc}", key) from None


def convert(settings: Mapping[str, str], seed: int | None) -> SkoptConfig:
    """Katib's ``convert_algorithm_spec`` (after :func:`validate`).

    ``random_state`` unset is ``None`` in Katib (numpy's global RandomState: every pod start is a
    different run). A simulation has to be reproducible, so the run's ``seed`` stands in for it.
    """
    kw: dict = {}
    for key, value in settings.items():
        if key in ("n_initial_points", "random_state"):
            kw[key] = int(value)
        else:
            kw[key] = value
    if "random_state" not in kw and seed is not None:
        kw["random_state"] = int(seed) % (2**32)
    return SkoptConfig(**kw)
