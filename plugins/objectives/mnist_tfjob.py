"""``mnist-tfjob``: a surrogate of the seed's tfjob-bayesian experiment built from real training runs.

Inputs ``--learning_rate`` (log scale) and ``--batch_size`` (int), metric ``accuracy_1``,
maximised — the seed's names. The values come from the shipped table of real runs of
``examples/trainers/mnist_with_summaries.py`` (an MLP on scikit-learn's *digits*, not the seed's
TensorFlow model on MNIST; see ``docs/objectives.md`` and ``plugins/data/mnist_tfjob.json``).

One simulated trial: the per-epoch seed-mean accuracy, interpolated bilinearly in
(log lr, batch size), plus noise with the interpolated seed-to-seed standard deviation, correlated
from epoch to epoch as an AR(1) process whose coefficient is measured on the table (a run that is
ahead tends to stay ahead); clipped to [0, 1]. Duration: ``time_scale`` x the measured CPU seconds
to the last epoch for the trial's batch size (interpolated linearly between batch sizes), taken as
the fastest of all runs with that batch size: the learning rate does not change the arithmetic, and
other work on the building machine only ever adds time, so the minimum is the robust estimate.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from katibsim.objective import Checkpoint, Evaluation, Objective, ObjectiveInput, ReportedMetric

from .mnist_table import cached_table, corners, interpolate, lag1_correlation, shipped_table_path
from .options import as_float, as_int, check_known, option_error, point_vector

OPTIONS: Mapping[str, str] = {
    "noise_scale": "multiplier of the seed-to-seed noise (default 1; 0 = the noise-free seed mean)",
    "noise_correlation": "AR(1) coefficient of the noise from epoch to epoch, in [0, 1) (default: measured on the table)",
    "time_scale": "simulated seconds per measured CPU second of training (default 1; the seed's cluster trials took minutes)",
    "epochs": "use the first N epochs of the table as the trial's length (default: all, 20 in the shipped table)",
    "table": "path of another table CSV written by build_mnist_table (default: the shipped one)",
    "batch_size": "fix --batch_size at this value and leave it out of the inputs (an experiment tuning only the "
                  "learning rate; default: --batch_size is an input)",
    "fidelity": "name of an extra int input: the epochs a trial trains (hyperband's resource; past the table's last "
                "epoch the accuracy stays at its last value) (default: none, every trial trains `epochs`)",
}
# Epochs a child trial's curve keeps of its parent's lead: the gap shrinks by this factor per epoch.
MEMORY = 0.7
MAX_FIDELITY = 100_000


def _noisy_loss(mean: np.ndarray, std: np.ndarray, dev: np.ndarray, scale: float) -> np.ndarray:
    """A loss ``dev`` (unit normal) away from its seed mean on a log-normal law with the table's
    mean and ``scale`` x its seed-to-seed spread (scale 0: the mean): a loss stays positive, and a
    diverging seed (spread larger than the mean, at the largest learning rates) lifts it rather
    than pushing its neighbours to 0."""
    m = np.maximum(mean, 1e-12)
    sigma = scale * np.sqrt(np.log1p((std / m) ** 2))
    return m * np.exp(sigma * dev - 0.5 * sigma * sigma)


class MnistTfjob(Objective):
    name = "mnist-tfjob"
    file_options = ("table",)
    description = (
        "Surrogate of the seed's tfjob-bayesian (--learning_rate, --batch_size -> accuracy_1, maximise) "
        "from real training runs of a small MLP on scikit-learn's digits (not MNIST); per-epoch curves, "
        "seed-to-seed noise, measured durations."
    )
    metric_name = "accuracy_1"
    direction = "maximize"
    generic = False  # a real job: its metric names and input ranges mean something

    def __init__(self, **options: Any) -> None:
        check_known(self.name, options, OPTIONS)
        path = str(options.get("table") or shipped_table_path())
        self.table = cached_table(path)
        t = self.table
        self.epochs = as_int(self.name, "epochs", options.get("epochs", t.epochs), low=1)
        if self.epochs > t.epochs:
            raise option_error(self.name, "epochs", f"must be <= {t.epochs} (the table's epochs)", self.epochs)
        self.noise_scale = as_float(self.name, "noise_scale", options.get("noise_scale", 1.0), low=0.0)
        # Clipped into [0, 0.99]: a table whose runs never change rank would otherwise give 1,
        # and an AR(1) coefficient of 1 has no innovation at all.
        measured = min(max(0.0, lag1_correlation(t.accuracy)), 0.99)
        self.noise_correlation = as_float(
            self.name, "noise_correlation", options.get("noise_correlation", measured), low=0.0
        )
        if self.noise_correlation >= 1.0:
            raise option_error(self.name, "noise_correlation", "must be < 1", self.noise_correlation)
        self.time_scale = as_float(self.name, "time_scale", options.get("time_scale", 1.0), low=0.0, low_open=True)

        e = self.epochs
        self._mean = t.seed_mean(t.accuracy)[..., :e]
        self._std = t.seed_std(t.accuracy)[..., :e]
        self._loss_mean = t.seed_mean(t.loss)[..., :e]
        self._loss_std = t.seed_std(t.loss)[..., :e]
        # (B,): fastest run per batch size, over every learning rate and seed.
        self._seconds = t.cpu_seconds[..., e - 1].min(axis=(0, 2))

        self.fixed_batch_size = (None if options.get("batch_size") is None
                                 else as_float(self.name, "batch_size", options["batch_size"], low=0.0, low_open=True))
        self.function_inputs = (
            ObjectiveInput("--learning_rate", float(t.learning_rates[0]), float(t.learning_rates[-1]), "double", log=True),
            ObjectiveInput("--batch_size", float(t.batch_sizes[0]), float(t.batch_sizes[-1]), "int"),
        )[: 1 if self.fixed_batch_size is not None else 2]
        fidelity = options.get("fidelity")
        names = [i.name for i in self.function_inputs]
        if fidelity is not None and (not isinstance(fidelity, str) or not fidelity or fidelity in names):
            raise option_error(self.name, "fidelity", f"must be a new input name (inputs: {', '.join(names)})", fidelity)
        self.fidelity = fidelity
        self.inputs = self.function_inputs + (
            (ObjectiveInput(fidelity, 0.0, float(MAX_FIDELITY), "int"),) if fidelity else ())
        # Every epoch of the table, for trials that train more or fewer epochs than `epochs`.
        self._mean_all = t.seed_mean(t.accuracy)
        self._std_all = t.seed_std(t.accuracy)
        self._loss_mean_all = t.seed_mean(t.loss)
        self._loss_std_all = t.seed_std(t.loss)
        self._seconds_all = t.cpu_seconds.min(axis=(0, 2))  # (B, E): cumulative seconds to each epoch
        # A bilinear interpolant peaks at a grid point, so the grid's best mean is the optimum.
        final = self._mean[..., -1]
        if self.fixed_batch_size is not None:  # the best mean at the fixed batch size, over the lr grid
            column = np.array([float(interpolate(final, corners(t, float(lr), self.fixed_batch_size)))
                               for lr in t.learning_rates])
            k = int(np.argmax(column))
            self.optimum = float(column[k])
            self.optimum_at = ({"--learning_rate": float(t.learning_rates[k])},)
        else:
            i, j = np.unravel_index(int(np.argmax(final)), final.shape)
            self.optimum = float(final[i, j])
            self.optimum_at = ({"--learning_rate": float(t.learning_rates[i]), "--batch_size": int(t.batch_sizes[j])},)
        # The training loss after the last epoch, minimised; a bilinear interpolant's minimum is a grid point too.
        final_loss = self._loss_mean[..., -1]
        if self.fixed_batch_size is not None:
            loss_optimum = min(float(interpolate(final_loss, corners(t, float(lr), self.fixed_batch_size)))
                               for lr in t.learning_rates)
        else:
            loss_optimum = float(final_loss.min())
        self.reports = (ReportedMetric("loss", "minimize", loss_optimum),)

    def _point(self, x: Mapping[str, Any]) -> tuple[float, float]:
        """(learning rate, batch size) of ``x`` (the fixed batch size when the option is set)."""
        v = point_vector(self.name, x, self.function_inputs)
        return float(v[0]), float(v[1]) if self.fixed_batch_size is None else self.fixed_batch_size

    def _corners(self, x: Mapping[str, Any]):
        lr, bs = self._point(x)
        return corners(self.table, lr, bs)

    def noise_free(self, x: Mapping[str, Any]) -> float:
        """The seed-mean accuracy after the last epoch, interpolated."""
        return float(interpolate(self._mean[..., -1], self._corners(x)))

    def noise_free_metric(self, metric: str, x: Mapping[str, Any]) -> float:
        """The seed-mean accuracy (``accuracy_1``) or loss (``loss``) after the last epoch, interpolated."""
        if metric == "loss":
            return float(interpolate(self._loss_mean[..., -1], self._corners(x)))
        return super().noise_free_metric(metric, x)

    def mean_curve(self, x: Mapping[str, Any]) -> np.ndarray:
        """The seed-mean accuracy per epoch, interpolated (no noise)."""
        return interpolate(self._mean, self._corners(x))

    def duration(self, x: Mapping[str, Any]) -> float:
        """Simulated training seconds at ``x`` (deterministic; depends on the batch size only)."""
        _, bs = self._point(x)
        return self._duration(bs)

    def _duration(self, batch_size: float) -> float:
        grid = self.table.batch_sizes.astype(float)
        return self.time_scale * float(np.interp(batch_size, grid, self._seconds))

    def evaluate(self, x: Mapping[str, Any], rng: np.random.Generator) -> Evaluation:
        """One simulated run: noisy per-epoch accuracy curve, final loss, duration; ``epochs`` draws."""
        if self.fidelity:
            return self._train(x, rng, None)
        lr, bs = self._point(x)
        c = corners(self.table, lr, bs)
        phi = self.noise_correlation
        z = rng.standard_normal(self.epochs)
        dev = np.empty(self.epochs)
        dev[0] = z[0]
        innovation = math.sqrt(1.0 - phi * phi)  # keeps every epoch's deviation at unit variance
        for k in range(1, self.epochs):
            dev[k] = phi * dev[k - 1] + innovation * z[k]
        scale = self.noise_scale * dev
        accuracy = np.clip(interpolate(self._mean, c) + scale * interpolate(self._std, c), 0.0, 1.0)
        # Loss moves against accuracy: the same run-level deviation, opposite sign.
        loss = _noisy_loss(interpolate(self._loss_mean, c), interpolate(self._loss_std, c), -dev, self.noise_scale)
        values = accuracy.tolist()
        steps = range(1, self.epochs + 1)
        return Evaluation(
            value=values[-1],
            curve=tuple(zip(steps, values)),
            duration=self._duration(float(bs)),
            metrics={"loss": float(loss[-1])},
            curves={"loss": tuple(zip(steps, loss.tolist()))},
            checkpoint=Checkpoint(self.epochs, float(interpolate(self._mean, c)[-1]), {"dev": float(dev[-1])}),
        )

    def resume(self, x: Mapping[str, Any], rng: np.random.Generator, checkpoint: Checkpoint) -> Evaluation:
        """Train ``x`` on from ``checkpoint`` (a PBT child): it starts at the parent's accuracy and epoch,
        the parent's lead over this point's own mean curve shrinking by MEMORY per epoch, and the
        run's noise deviation carrying on (AR(1)) from the parent's."""
        return self._train(x, rng, checkpoint)

    def _train(self, x: Mapping[str, Any], rng: np.random.Generator, checkpoint: Checkpoint | None) -> Evaluation:
        lr, bs = self._point(x)
        epochs = self.epochs
        if self.fidelity:
            epochs = max(1, int(round(float(point_vector(self.name, x, self.inputs)[-1]))))
        start = checkpoint.epoch if checkpoint is not None else 0
        c = corners(self.table, lr, bs)
        last = self.table.epochs
        idx = np.minimum(np.arange(start + 1, start + epochs + 1), last) - 1  # flat past the table's end
        mean = interpolate(self._mean_all, c)
        std = interpolate(self._std_all, c)
        phi = self.noise_correlation
        innovation = math.sqrt(1.0 - phi * phi)
        z = rng.standard_normal(epochs)
        dev = np.empty(epochs)
        prev = checkpoint.state.get("dev") if checkpoint is not None else None
        dev[0] = z[0] if prev is None else phi * prev + innovation * z[0]
        for k in range(1, epochs):
            dev[k] = phi * dev[k - 1] + innovation * z[k]
        clean = mean[idx].copy()
        if checkpoint is not None:
            here = float(mean[min(max(start, 1), last) - 1])
            clean += (checkpoint.value - here) * MEMORY ** np.arange(1, epochs + 1)
        accuracy = np.clip(clean + self.noise_scale * dev * std[idx], 0.0, 1.0)
        # Loss against accuracy, as in evaluate (a child's loss follows its own mean loss curve).
        loss = _noisy_loss(interpolate(self._loss_mean_all, c)[idx], interpolate(self._loss_std_all, c)[idx],
                           -dev, self.noise_scale)
        seconds = self._seconds_all[:, -1] / last  # per epoch, per batch size (the table's average)
        grid = self.table.batch_sizes.astype(float)
        duration = self.time_scale * float(np.interp(bs, grid, seconds)) * epochs
        values = accuracy.tolist()
        steps = range(start + 1, start + epochs + 1)
        return Evaluation(
            value=values[-1],
            curve=tuple(zip(steps, values)),
            duration=duration,
            metrics={"loss": float(loss[-1])},
            curves={"loss": tuple(zip(steps, loss.tolist()))},
            checkpoint=Checkpoint(start + epochs, float(clean[-1]), {"dev": float(dev[-1])}),
        )
