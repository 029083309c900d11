#!/usr/bin/env python3
"""A real tiny trainer standing in for the seed's ``/var/tf_mnist/mnist_with_summaries.py``.

It trains the seed script's *architecture* (one hidden layer of 500 ReLU units, dropout with keep
probability 0.9, softmax output, Adam with TensorFlow's defaults, weights from a normal truncated
at two standard deviations with std 0.1, biases 0.1) written in numpy, on scikit-learn's *digits*
data set (1,797 8x8 grey-scale digits, shipped with scikit-learn, no download) — not on MNIST, so
its accuracies are not the seed's (0.9732 at learning rate 0.0102, batch size 157).

The train/test split is fixed (stratified, 25 % test, independent of ``--seed``) like MNIST's
fixed test set; ``--seed`` drives the initialisation, the shuffling and the dropout masks.
After every epoch it prints Katib StdOut metric lines (``accuracy_1=<test accuracy>`` and
``loss=<test cross-entropy>``, one per line) and hands the epoch's metrics to
:func:`write_summaries` (the place for TensorFlow event files in ``--log_dir``).

    python examples/trainers/mnist_with_summaries.py --learning_rate=0.01 --batch_size=100

Importable: :func:`train` returns the per-epoch metrics (the ``mnist-tfjob`` table is built with it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

HIDDEN_UNITS = 500  # the seed script's hidden1 width
KEEP_PROB = 0.9  # the seed script's default dropout keep probability
TEST_FRACTION = 0.25
SPLIT_SEED = 0  # fixed split: seeds vary the training run, not the data
DEFAULT_EPOCHS = 20
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8  # tf.train.AdamOptimizer defaults


@dataclass(frozen=True)
class EpochMetrics:
    """Metrics after one epoch; times count from the start of training (data loading excluded).

    ``seconds`` is wall-clock time; ``cpu_seconds`` the process's CPU time, which does not grow
    when other work shares the machine (the surrogate's cost model uses it).
    """

    epoch: int
    accuracy: float  # test accuracy, reported as accuracy_1
    loss: float  # mean test cross-entropy
    train_loss: float  # mean training cross-entropy over the epoch's mini-batches
    seconds: float
    cpu_seconds: float


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_data() -> Dataset:
    """scikit-learn's digits, pixels scaled to [0, 1], a fixed stratified train/test split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    test_idx = []
    for label in np.unique(y):  # stratified: the same share of every digit in the test set
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        test_idx.extend(idx[: int(round(TEST_FRACTION * len(idx)))])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[test_idx] = True
    return Dataset(x[~test_mask], y[~test_mask], x[test_mask], y[test_mask])


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    """Normal(0, std) re-drawn outside two standard deviations (tf.truncated_normal)."""
    out = rng.normal(0.0, std, size=shape)
    bad = np.abs(out) > 2 * std
    while bad.any():
        out[bad] = rng.normal(0.0, std, size=int(bad.sum()))
        bad = np.abs(out) > 2 * std
    return out


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class _Mlp:
    """input -> 500 ReLU (dropout) -> softmax, trained with Adam."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.params = [
            _truncated_normal(rng, (n_in, HIDDEN_UNITS), 0.1),
            np.full(HIDDEN_UNITS, 0.1),
            _truncated_normal(rng, (HIDDEN_UNITS, n_out), 0.1),
            np.full(n_out, 0.1),
        ]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def logits(self, x: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = self.params
        return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2

    def step(self, x: np.ndarray, y: np.ndarray, lr: float, rng: np.random.Generator) -> float:
        """One Adam step on a mini-batch; returns its mean cross-entropy (before the step)."""
        w1, b1, w2, b2 = self.params
        pre = x @ w1 + b1
        hidden = np.maximum(pre, 0.0)
        mask = (rng.random(hidden.shape) < KEEP_PROB) / KEEP_PROB  # inverted dropout, as tf.nn.dropout
        dropped = hidden * mask
        logp = _log_softmax(dropped @ w2 + b2)
        n = len(y)
        loss = -float(logp[np.arange(n), y].mean())
        dlogits = np.exp(logp)
        dlogits[np.arange(n), y] -= 1.0
        dlogits /= n
        dhidden = (dlogits @ w2.T) * mask * (pre > 0)
        grads = [x.T @ dhidden, dhidden.sum(axis=0), dropped.T @ dlogits, dlogits.sum(axis=0)]
        self.t += 1
        # TensorFlow's Adam folds the bias corrections into the step size.
        lr_t = lr * np.sqrt(1 - ADAM_BETA2**self.t) / (1 - ADAM_BETA1**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= ADAM_BETA1
            m += (1 - ADAM_BETA1) * g
            v *= ADAM_BETA2
            v += (1 - ADAM_BETA2) * g * g
            p -= lr_t * m / (np.sqrt(v) + ADAM_EPSILON)
        return loss


def _one_blas_thread():
    """Limit BLAS to one thread: these matrices are small, and a trial is meant to use one core."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def train(
    learning_rate: float,
    batch_size: int,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    on_epoch: Callable[[EpochMetrics], None] | None = None,
    data: Dataset | None = None,
) -> list[EpochMetrics]:
    """Train once; returns one :class:`EpochMetrics` per epoch (``on_epoch`` sees each as it ends)."""
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    data = data or load_data()
    with _one_blas_thread():
        return _train(learning_rate, batch_size, epochs, seed, on_epoch, data)


def _train(
    learning_rate: float,
    batch_size: int,
    epochs: int,
    seed: int,
    on_epoch: Callable[[EpochMetrics], None] | None,
    data: Dataset,
) -> list[EpochMetrics]:
    rng = np.random.default_rng(seed)
    model = _Mlp(data.x_train.shape[1], 10, rng)
    n = len(data.y_train)
    history: list[EpochMetrics] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        losses = []
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            losses.append(model.step(data.x_train[idx], data.y_train[idx], learning_rate, rng))
        logp = _log_softmax(model.logits(data.x_test))
        accuracy = float(np.mean(logp.argmax(axis=1) == data.y_test))
        test_loss = -float(logp[np.arange(len(data.y_test)), data.y_test].mean())
        metrics = EpochMetrics(
            epoch=epoch,
            accuracy=accuracy,
            loss=test_loss,
            train_loss=float(np.mean(losses)),
            seconds=time.perf_counter() - start,
            cpu_seconds=time.process_time() - cpu_start,
        )
        history.append(metrics)
        if on_epoch is not None:
            on_epoch(metrics)
    return history


_WRITERS: dict[str, object] = {}


def _event_writer(directory: str):
    """One open event file per folder, closed when the process exits."""
    writer = _WRITERS.get(directory)
    if writer is None:
        try:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError as err:
            raise RuntimeError(
                f"writing TensorFlow event files (--log_dir) needs the 'tensorboard' package ({err}); "
                "install it with: pip install tensorboard  (TensorFlow itself is not needed)"
            ) from None
        import atexit

        writer = EventFileWriter(directory)
        atexit.register(writer.close)
        _WRITERS[directory] = writer
    return writer


def write_summaries(log_dir: str, metrics: EpochMetrics) -> None:
    """TensorFlow event files laid out like the seed script's (issue 7 item 5), one event per epoch:

    - ``<log_dir>/test``: the test accuracy under the tag ``accuracy_1`` (the seed's tag: TF names
      the scalar ``accuracy`` inside the ``accuracy`` name scope ``accuracy_1``) and the test
      cross-entropy under ``loss``;
    - ``<log_dir>/train``: the epoch's mean training cross-entropy under ``cross_entropy_1``.

    Written with tensorboard's own event writer, without TensorFlow, as TF1 scalar summaries
    (``simple_value``, a float32) with ``step`` = the epoch, and flushed after every epoch so a
    collector can read them while training goes on.
    """
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    def emit(sub: str, values: dict[str, float]) -> None:
        writer = _event_writer(os.path.join(log_dir, sub))
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(v)) for tag, v in values.items()])
        writer.add_event(Event(wall_time=time.time(), step=metrics.epoch, summary=summary))
        writer.flush()

    emit("test", {"accuracy_1": metrics.accuracy, "loss": metrics.loss})
    emit("train", {"cross_entropy_1": metrics.train_loss})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learning_rate", type=float, default=0.001)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log_dir", default=None, help="directory for summaries (created)")
    args = parser.parse_args(argv)
    if args.learning_rate <= 0 or args.batch_size < 1 or args.epochs < 1:
        parser.error("need --learning_rate > 0, --batch_size >= 1 and --epochs >= 1")
    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)

    def report(m: EpochMetrics) -> None:
        # Katib's StdOut collector reads `name=value`; "Epoch k/n" has no '=' and is ignored.
        print(f"Epoch {m.epoch}/{args.epochs}")
        print(f"accuracy_1={m.accuracy:.6f}")
        print(f"loss={m.loss:.6f}", flush=True)
        if args.log_dir:
            write_summaries(args.log_dir, m)

    history = train(args.learning_rate, args.batch_size, args.epochs, args.seed, on_epoch=report)
    print(f"Trained in {history[-1].seconds:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
