"""Standard test functions and the seed's 1-D function as simulated objectives.

One small class per function declares its domain, direction and known optimum; the shared
:class:`FunctionObjective` adds observation noise, learning curves (:class:`CurveModel`) and a cost
model (:class:`CostModel`). Domains and optima: ``docs/objectives.md#test-functions`` (the
minimisers below are the listed ones polished with L-BFGS-B and Nelder-Mead; the test suite checks
them); the seed function: issue 4 item 3 and the seed tutorial.
"""

from __future__ import annotations

import math
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from katibsim.objective import Checkpoint, Evaluation, Objective, ObjectiveInput

from . import functions as F
from .curves import CostModel, CurveModel
from .options import as_float, as_float_map, as_int, check_known, option_error, point_vector, unit_position

# Every option a function objective accepts, with the text docs/objectives.md repeats.
COMMON_OPTIONS: Mapping[str, str] = {
    "noise": "std of Gaussian observation noise added to every report (default 0)",
    "steps": "number of intermediate reports per trial, the learning curve (default 10; 0 = final value only)",
    "duration": "base simulated training seconds per trial (default 60)",
    "duration_slope": "input -> relative extra duration at the top of its range: {x1: 1.0} or \"x1:1.0,x2:-0.5\" (default none)",
    "duration_jitter": "sigma of a log-normal factor on the duration (default 0)",
    "curve_rate": "convergence rate r of the learning curve (default 3)",
    "curve_rate_spread": "sigma of the per-trial log-normal spread of the rate (default 0.3)",
    "start_gap": "how far the curve starts from the final value, in units of the objective's span (default 1)",
    "fidelity": "name of an extra int input: the epochs a trial trains (hyperband's resource), `steps` being full "
                "training (default: none, every trial trains `steps` epochs)",
}
# Largest value the fidelity input declares (training past `steps` epochs keeps the final value).
MAX_FIDELITY = 100_000
DIM_OPTION: Mapping[str, str] = {"dim": "number of inputs x1..xd (default: the class's default_dim)"}

# Fixed generator seed for the span estimate: an objective's curve shape must not depend on
# the trial generator, and two constructions with the same options must be identical.
_SPAN_SEED = 20191027
_SPAN_SAMPLES = 2048


class FunctionObjective(Objective):
    """A vectorised test function with noise, learning curves and a cost model."""

    function: ClassVar[Callable[[Any], np.ndarray]]
    bounds: ClassVar[tuple[tuple[float, float], ...]] = ()  # fixed-dimension domain
    input_names: ClassVar[tuple[str, ...]] = ()  # default x1..xd
    optimum_value: ClassVar[float] = 0.0
    optimum_points: ClassVar[tuple[tuple[float, ...], ...]] = ()
    # Dimensioned functions (default_dim set): the same box and optimum coordinate in every dimension.
    default_dim: ClassVar[int | None] = None
    min_dim: ClassVar[int] = 1
    box: ClassVar[tuple[float, float]] = (0.0, 1.0)
    optimum_coordinate: ClassVar[float] = 0.0
    optimum_per_dim: ClassVar[float] = 0.0  # optimum = optimum_per_dim * dim

    def __init__(self, **options: Any) -> None:
        allowed = dict(COMMON_OPTIONS)
        if self.default_dim is not None:
            allowed.update(DIM_OPTION)
        check_known(self.name, options, allowed)
        if self.default_dim is not None:
            self.dim = as_int(self.name, "dim", options.get("dim", self.default_dim), low=self.min_dim)
            bounds = (self.box,) * self.dim
            self.optimum = self.optimum_per_dim * self.dim
            self.optimum_at = ({f"x{i + 1}": self.optimum_coordinate for i in range(self.dim)},)
        else:
            self.dim = len(self.bounds)
            bounds = self.bounds
            self.optimum = self.optimum_value
        names = self.input_names or tuple(f"x{i + 1}" for i in range(self.dim))
        self.function_inputs = tuple(ObjectiveInput(n, float(lo), float(hi)) for n, (lo, hi) in zip(names, bounds))
        fidelity = options.get("fidelity")
        if fidelity is not None and (not isinstance(fidelity, str) or not fidelity or fidelity in names):
            raise option_error(self.name, "fidelity", f"must be a new input name (inputs: {', '.join(names)})", fidelity)
        self.fidelity = fidelity
        self.inputs = self.function_inputs + (
            (ObjectiveInput(fidelity, 0.0, float(MAX_FIDELITY), "int"),) if fidelity else ())
        if self.default_dim is None:
            self.optimum_at = tuple(dict(zip(names, p)) for p in self.optimum_points)
        self.curve_model = CurveModel(
            steps=as_int(self.name, "steps", options.get("steps", 10), low=0),
            noise=as_float(self.name, "noise", options.get("noise", 0.0), low=0.0),
            rate=as_float(self.name, "curve_rate", options.get("curve_rate", 3.0), low=0.0),
            rate_spread=as_float(self.name, "curve_rate_spread", options.get("curve_rate_spread", 0.3), low=0.0),
            start_gap=as_float(self.name, "start_gap", options.get("start_gap", 1.0), low=0.0),
        )
        self.cost_model = CostModel(
            base=as_float(self.name, "duration", options.get("duration", 60.0), low=0.0, low_open=True),
            slopes=as_float_map(self.name, "duration_slope", options.get("duration_slope"), names),
            jitter=as_float(self.name, "duration_jitter", options.get("duration_jitter", 0.0), low=0.0),
        )
        if self.cost_model.lowest_scale <= 0:
            raise option_error(
                self.name,
                "duration_slope",
                f"makes some durations <= 0 (1 + sum of negative slopes = {self.cost_model.lowest_scale:g}); "
                "keep it above 0",
                options.get("duration_slope"),
            )
        self.span = self._span()

    # -- vectorised, noise-free ---------------------------------------------------------------
    @property
    def lower(self) -> np.ndarray:
        return np.array([i.low for i in self.function_inputs])

    @property
    def upper(self) -> np.ndarray:
        return np.array([i.high for i in self.function_inputs])

    def values(self, X: Any) -> np.ndarray:
        """Noise-free values of points ``X`` of shape (n, d), inputs in order (vectorised)."""
        return type(self).function(X)

    def noise_free(self, x: Mapping[str, Any]) -> float:
        """The value after full training (``steps`` epochs), without noise."""
        return float(self.values(point_vector(self.name, x, self.function_inputs))[0])

    def _span(self) -> float:
        """Typical distance between an ordinary point and the optimum: |median over the domain - optimum|."""
        rng = np.random.default_rng(_SPAN_SEED)
        U = rng.random((_SPAN_SAMPLES, self.dim))
        X = self.lower + U * (self.upper - self.lower)
        span = abs(float(np.median(self.values(X))) - float(self.optimum))
        return span if span > 0 else 1.0

    # -- one simulated trial ------------------------------------------------------------------
    def evaluate(self, x: Mapping[str, Any], rng: np.random.Generator) -> Evaluation:
        """Noisy final value, its learning curve and its duration; draws from ``rng`` only."""
        if self.fidelity:
            return self._train(x, rng, None)
        point = point_vector(self.name, x, self.function_inputs)
        final = float(self.values(point)[0])
        worse = 1.0 if self.direction == "minimize" else -1.0
        value, curve = self.curve_model.sample(final, self.span, worse, rng)
        return Evaluation(value=value, curve=curve, duration=self.cost_model.duration(self._positions(point), rng),
                          checkpoint=Checkpoint(self.curve_model.steps, final))

    def resume(self, x: Mapping[str, Any], rng: np.random.Generator, checkpoint: Checkpoint) -> Evaluation:
        """Train ``x`` on from ``checkpoint``: the parent's progress, then this point's own curve."""
        return self._train(x, rng, checkpoint)

    def _epochs(self, x: Mapping[str, Any]) -> int:
        if not self.fidelity:
            return self.curve_model.steps
        return max(0, int(round(float(point_vector(self.name, x, self.inputs)[-1]))))

    def _train(self, x: Mapping[str, Any], rng: np.random.Generator, checkpoint: Checkpoint | None) -> Evaluation:
        point = point_vector(self.name, x, self.function_inputs)
        final = float(self.values(point)[0])
        worse = 1.0 if self.direction == "minimize" else -1.0
        epochs = self._epochs(x)
        start = checkpoint.epoch if checkpoint is not None else 0
        curve, clean = self.curve_model.sample_span(
            final, self.span, worse, rng, start=start, length=epochs,
            parent=checkpoint.value if checkpoint is not None else None)
        if not curve:  # zero epochs: the model as it stands
            curve = ((max(start, 1), clean),)
        per_epoch = 1.0 / max(self.curve_model.steps, 1)
        duration = self.cost_model.duration(self._positions(point), rng) * max(epochs, 1) * per_epoch
        return Evaluation(value=curve[-1][1], curve=curve, duration=duration,
                          checkpoint=Checkpoint(start + epochs, clean))

    def _positions(self, point: np.ndarray) -> dict[str, float]:
        if not self.cost_model.slopes:
            return {}
        return {s.name: unit_position(float(v), s) for s, v in zip(self.function_inputs, point)}


class Seed1D(FunctionObjective):
    name = "seed-1d"
    description = (
        "The seed tutorial's 1-D function exp(-(x-2)^2) + exp(-(x-6)^2/10) + 1/(x^2+1) on [-2, 10], "
        "maximised; global max 1.401897 at x = 2.000874, local maxima at 0.063559 and 5.955197."
    )
    metric_name = "objective"
    direction = "maximize"
    function = staticmethod(F.seed_1d)
    bounds = ((-2.0, 10.0),)
    input_names = ("x",)
    optimum_value = 1.4018971812898668
    optimum_points = ((2.000874345684901,),)
    # Not global optima, but the tutorial's story is about them (kappa 1 settles on one).
    local_maxima: ClassVar[tuple[tuple[float, float], ...]] = (
        (0.06355918604956264, 1.048976217168816),
        (5.955196963828533, 1.0272234796388258),
    )


class Branin(FunctionObjective):
    name = "branin"
    description = "Branin-Hoo (2-D), x1 in [-5, 10], x2 in [0, 15]; min 0.397887 at three points."
    metric_name = "branin"
    direction = "minimize"
    function = staticmethod(F.branin)
    bounds = ((-5.0, 10.0), (0.0, 15.0))
    optimum_value = 0.39788735772973816
    optimum_points = ((-math.pi, 12.275), (math.pi, 2.275), (3 * math.pi, 2.475))


class Hartmann3(FunctionObjective):
    name = "hartmann3"
    description = "Hartmann 3-D on [0, 1]^3; min -3.86278."
    metric_name = "hartmann3"
    direction = "minimize"
    function = staticmethod(F.hartmann3)
    bounds = ((0.0, 1.0),) * 3
    optimum_value = -3.862779787332663
    optimum_points = ((0.11458887921, 0.555648894378, 0.852546984956),)


class Hartmann6(FunctionObjective):
    name = "hartmann6"
    description = "Hartmann 6-D on [0, 1]^6; min -3.32237."
    metric_name = "hartmann6"
    direction = "minimize"
    function = staticmethod(F.hartmann6)
    bounds = ((0.0, 1.0),) * 6
    optimum_value = -3.3223680114155147
    optimum_points = (
        (0.201689509107, 0.150010690065, 0.476873977791, 0.275332430791, 0.311651618592, 0.657300533091),
    )


class Ackley(FunctionObjective):
    name = "ackley"
    description = "Ackley (a=20, b=0.2, c=2 pi) on [-32.768, 32.768]^d, default d = 5; min 0 at the origin."
    metric_name = "ackley"
    direction = "minimize"
    function = staticmethod(F.ackley)
    default_dim = 5
    box = (-32.768, 32.768)
    optimum_coordinate = 0.0
    optimum_per_dim = 0.0


class Rosenbrock(FunctionObjective):
    name = "rosenbrock"
    description = "Rosenbrock on [-5, 10]^d (d >= 2), default d = 4; min 0 at (1, ..., 1)."
    metric_name = "rosenbrock"
    direction = "minimize"
    function = staticmethod(F.rosenbrock)
    default_dim = 4
    min_dim = 2
    box = (-5.0, 10.0)
    optimum_coordinate = 1.0
    optimum_per_dim = 0.0


class Levy(FunctionObjective):
    name = "levy"
    description = "Levy on [-10, 10]^d, default d = 4; min 0 at (1, ..., 1)."
    metric_name = "levy"
    direction = "minimize"
    function = staticmethod(F.levy)
    default_dim = 4
    box = (-10.0, 10.0)
    optimum_coordinate = 1.0
    optimum_per_dim = 0.0


class StyblinskiTang(FunctionObjective):
    name = "styblinski-tang"
    description = "Styblinski-Tang on [-5, 5]^d, default d = 4; min -39.16617 d at (-2.903534, ...)."
    metric_name = "styblinski-tang"
    direction = "minimize"
    function = staticmethod(F.styblinski_tang)
    default_dim = 4
    box = (-5.0, 5.0)
    optimum_coordinate = -2.903534029836
    optimum_per_dim = -39.166165703771426


class SixHumpCamel(FunctionObjective):
    name = "six-hump-camel"
    description = "Six-hump camel, x1 in [-3, 3], x2 in [-2, 2]; min -1.031628 at (0.0898, -0.7126) and (-0.0898, 0.7126)."
    metric_name = "six-hump-camel"
    direction = "minimize"
    function = staticmethod(F.six_hump_camel)
    bounds = ((-3.0, 3.0), (-2.0, 2.0))
    optimum_value = -1.0316284534898774
    optimum_points = ((0.0898420131, -0.7126564030), (-0.0898420131, 0.7126564030))


class GoldsteinPrice(FunctionObjective):
    name = "goldstein-price"
    description = "Goldstein-Price on [-2, 2]^2; min 3 at (0, -1)."
    metric_name = "goldstein-price"
    direction = "minimize"
    function = staticmethod(F.goldstein_price)
    bounds = ((-2.0, 2.0), (-2.0, 2.0))
    optimum_value = 3.0
    optimum_points = ((0.0, -1.0),)


FUNCTION_OBJECTIVES: tuple[type[FunctionObjective], ...] = (
    Seed1D,
    Branin,
    Hartmann3,
    Hartmann6,
    Ackley,
    Rosenbrock,
    Levy,
    StyblinskiTang,
    SixHumpCamel,
    GoldsteinPrice,
)
