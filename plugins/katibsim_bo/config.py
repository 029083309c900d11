"""The plugin's settings: Katib's five (docs/katib-behaviour.md §5.5) plus katibsim's own, parsed and validated.

Katib's messages are kept where Katib has one ("acq_func X is not supported in Bayesian
optimization", "n_initial_points should be great or equal than zero", "failed to validate
name(value): ..."); our own settings get messages in the same style that say what is expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

from katibsim.algorithm import SettingsError, SettingSpec

KATIB_ACQ = ("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps")
OUR_ACQ = ("UCB", "logEI")
# Our canonical acquisition per accepted name. Katib minimises with skopt, where LCB = mu - kappa sigma
# of the loss; on katibsim's "larger is better" internal scale that is UCB.
ACQ_KIND = {"LCB": "ucb", "UCB": "ucb", "EI": "ei", "logEI": "logei", "PI": "pi", "EIps": "ei", "PIps": "pi", "gp_hedge": "hedge"}


@dataclass(frozen=True)
class Config:
    base_estimator: str = "GP"
    n_initial_points: int = 10
    acq_func: str = "logEI"
    acq_optimizer: str = "auto"
    random_state: int | None = None
    kappa: float = 2.0
    xi: float = 0.0
    kappa_decay: float = 1.0
    kappa_decay_delay: int = 0
    initial_design: str = "sobol"
    noise: str = "gaussian"
    n_candidates: int | None = None  # None = auto
    n_restarts: int = 8
    hedge_eta: float = 1.0
    output_warping: str = "auto"

    @property
    def acq_kind(self) -> str:
        return ACQ_KIND[self.acq_func]

    @property
    def warp(self) -> bool:
        if self.output_warping == "auto":
            return self.acq_kind != "ucb"
        return self.output_warping == "power"

    @property
    def per_second(self) -> bool:
        return self.acq_func in ("EIps", "PIps")

    def candidates(self, dim: int, n_obs: int) -> int:
        if self.n_candidates is not None:
            return self.n_candidates
        n = min(2048, 512 * max(1, dim))
        if n_obs > 100:
            n = max(512, int(n * 100 / n_obs))
        return n

    @property
    def polish(self) -> bool:
        # "auto" = lbfgs: the GP has analytic gradients (skopt makes the same choice for a GP).
        return self.acq_optimizer in ("auto", "lbfgs")


DEFAULTS = Config()

SETTINGS_SPEC: tuple[SettingSpec, ...] = (
    SettingSpec("base_estimator", "GP", "Surrogate model. Only GP (Gaussian process) is implemented; Katib's RF, ET and GBRT are rejected."),
    SettingSpec("n_initial_points", str(DEFAULTS.n_initial_points), "Trials drawn from the initial design before the model is used (>= 0)."),
    SettingSpec(
        "acq_func",
        DEFAULTS.acq_func,
        "Acquisition: Katib's gp_hedge, LCB (= UCB here), EI, PI, EIps, PIps (per second of trial duration), "
        "or katibsim's UCB, logEI. EI and logEI pick the same points (EI is maximised through its log).",
    ),
    SettingSpec("acq_optimizer", DEFAULTS.acq_optimizer, "auto or lbfgs: Sobol candidates polished by L-BFGS-B with analytic gradients; sampling: candidates only."),
    SettingSpec("random_state", None, "Seed (>= 0); overrides the experiment's seed."),
    SettingSpec("kappa", str(DEFAULTS.kappa), "Exploration constant of UCB/LCB, in standard deviations of the observed objective (>= 0).", katib=False),
    SettingSpec("xi", str(DEFAULTS.xi), "Improvement margin of EI/PI, in standard deviations of the observed objective (>= 0).", katib=False),
    SettingSpec("kappa_decay", str(DEFAULTS.kappa_decay), "Multiply kappa by this after each model-based trial (0 < decay <= 1; 1 = no decay).", katib=False),
    SettingSpec("kappa_decay_delay", str(DEFAULTS.kappa_decay_delay), "Model-based trials before kappa starts to decay (>= 0).", katib=False),
    SettingSpec("initial_design", DEFAULTS.initial_design, "sobol (scrambled Sobol, low discrepancy) or random (uniform under the seed).", katib=False),
    SettingSpec("noise", DEFAULTS.noise, "gaussian: learn a noise variance; deterministic: fix it at 1e-6 (noise-free objectives).", katib=False),
    SettingSpec(
        "n_candidates",
        "auto",
        "Quasi-random candidates scored per acquisition maximisation (>= 16); auto: min(2048, 512 x dimensions), "
        "scaled down as 100/observations beyond 100 observations (never below 512).",
        katib=False,
    ),
    SettingSpec("n_restarts", str(DEFAULTS.n_restarts), "Best candidates polished by L-BFGS-B (>= 1).", katib=False),
    SettingSpec(
        "output_warping",
        DEFAULTS.output_warping,
        "power: a Yeo-Johnson transform of the observations fitted by maximum likelihood (objectives spanning orders of magnitude); "
        "none; auto: power, except for UCB/LCB, whose kappa counts standard deviations of the observations themselves.",
        katib=False,
    ),
    SettingSpec("hedge_eta", str(DEFAULTS.hedge_eta), "Learning rate of the gp_hedge portfolio (> 0).", katib=False),
)


def _fail(name: str, value: str, expected: str) -> SettingsError:
    return SettingsError(f"failed to validate {name}({value}): expected {expected}", setting=name)


def _int(name: str, value: str, check: Callable[[int], bool], expected: str, katib_msg: str | None = None) -> int:
    try:
        v = int(str(value).strip())
    except ValueError:
        raise _fail(name, value, expected) from None
    if not check(v):
        raise SettingsError(katib_msg or f"failed to validate {name}({value}): expected {expected}", setting=name)
    return v


def _float(name: str, value: str, check: Callable[[float], bool], expected: str) -> float:
    try:
        v = float(str(value).strip())
    except ValueError:
        raise _fail(name, value, expected) from None
    if not math.isfinite(v) or not check(v):
        raise _fail(name, value, expected)
    return v


def _enum(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingsError(
            f"{name} {value} is not supported in Bayesian optimization (expected one of: {', '.join(allowed)})", setting=name
        )
    return value


def parse(settings: Mapping[str, str]) -> Config:
    """Validate ``settings`` (unknown keys were already rejected by the Algorithm base class)."""
    kw: dict = {}
    for name, value in settings.items():
        value = str(value)
        if name == "base_estimator":
            if value in ("RF", "ET", "GBRT"):
                raise SettingsError(
                    f"base_estimator {value} is not supported in Bayesian optimization "
                    "(katibsim implements the Gaussian process surrogate only: use GP)",
                    setting=name,
                )
            kw[name] = _enum(name, value, ("GP",))
        elif name == "n_initial_points":
            kw[name] = _int(name, value, lambda v: v >= 0, "an integer >= 0", "n_initial_points should be great or equal than zero")
        elif name == "acq_func":
            kw[name] = _enum(name, value, KATIB_ACQ + OUR_ACQ)
        elif name == "acq_optimizer":
            kw[name] = _enum(name, value, ("auto", "sampling", "lbfgs"))
        elif name == "random_state":
            kw[name] = _int(name, value, lambda v: v >= 0, "an integer >= 0", "random_state should be great or equal than zero")
        elif name == "kappa":
            kw[name] = _float(name, value, lambda v: v >= 0, "a number >= 0")
        elif name == "xi":
            kw[name] = _float(name, value, lambda v: v >= 0, "a number >= 0")
        elif name == "kappa_decay":
            kw[name] = _float(name, value, lambda v: 0 < v <= 1, "a number in (0, 1]")
        elif name == "kappa_decay_delay":
            kw[name] = _int(name, value, lambda v: v >= 0, "an integer >= 0")
        elif name == "initial_design":
            kw[name] = _enum(name, value, ("sobol", "random"))
        elif name == "noise":
            kw[name] = _enum(name, value, ("gaussian", "deterministic"))
        elif name == "n_candidates":
            kw[name] = None if value == "auto" else _int(name, value, lambda v: 16 <= v <= 1_000_000, "auto or an integer in [16, 1000000]")
        elif name == "n_restarts":
            kw[name] = _int(name, value, lambda v: 1 <= v <= 1000, "an integer in [1, 1000]")
        elif name == "output_warping":
            kw[name] = _enum(name, value, ("auto", "none", "power"))
        elif name == "hedge_eta":
            kw[name] = _float(name, value, lambda v: v > 0, "a number > 0")
    return Config(**kw)
