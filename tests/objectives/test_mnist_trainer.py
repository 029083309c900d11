"""The real tiny trainer (examples/trainers/mnist_with_summaries.py) and the table builder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from katibsim_plugins.objectives import build_mnist_table as builder
from katibsim_plugins.objectives.mnist_table import read_table, shipped_table_path

TRAINER = builder.DEFAULT_TRAINER
# Katib's default StdOut filter (docs/katib-behaviour.md §6.2): name=value pairs.
KATIB_DEFAULT_FILTER = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")


@pytest.fixture(scope="module")
def trainer():
    return builder.load_trainer(TRAINER)


@pytest.fixture(scope="module")
def data(trainer):
    return trainer.load_data()


def test_data_is_digits_with_a_fixed_stratified_split(trainer, data):
    assert data.x_train.shape[1] == 64 and len(data.y_train) + len(data.y_test) == 1797
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    counts = np.bincount(data.y_test, minlength=10)
    assert counts.min() >= 40  # every digit in the test set, about a quarter of each
    again = trainer.load_data()
    assert np.array_equal(again.y_test, data.y_test) and np.array_equal(again.x_test, data.x_test)


def test_train_is_deterministic_under_a_seed_and_learns(trainer, data):
    a = trainer.train(0.01, 100, epochs=3, seed=0, data=data)
    b = trainer.train(0.01, 100, epochs=3, seed=0, data=data)
    c = trainer.train(0.01, 100, epochs=3, seed=1, data=data)
    assert [m.epoch for m in a] == [1, 2, 3]
    assert [(m.accuracy, m.loss) for m in a] == [(m.accuracy, m.loss) for m in b]
    assert [(m.accuracy, m.loss) for m in a] != [(m.accuracy, m.loss) for m in c]
    assert a[-1].accuracy > 0.85 and a[-1].loss < a[0].loss
    assert all(x.seconds < y.seconds for x, y in zip(a, a[1:]))
    assert all(m.cpu_seconds > 0 for m in a)


def test_learning_rate_and_batch_size_matter(trainer, data):
    good = trainer.train(0.005, 64, epochs=3, seed=0, data=data)[-1].accuracy
    too_high = trainer.train(0.3, 64, epochs=3, seed=0, data=data)[-1].accuracy
    too_slow = trainer.train(0.0005, 256, epochs=3, seed=0, data=data)[-1].accuracy
    assert good > too_high + 0.1
    assert good > too_slow + 0.1


def test_train_rejects_nonsense(trainer, data):
    with pytest.raises(ValueError):
        trainer.train(0.0, 10, epochs=1, data=data)
    with pytest.raises(ValueError):
        trainer.train(0.01, 0, epochs=1, data=data)


def test_the_script_prints_katib_stdout_metrics(tmp_path):
    # The timeout only guards against a hang; the trainer's speed is not a unit-test matter.
    log_dir = tmp_path / "metrics"
    proc = subprocess.run(
        [sys.executable, str(TRAINER), f"--log_dir={log_dir}", "--learning_rate=0.0102", "--batch_size=157", "--epochs", "3"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert log_dir.is_dir()
    pairs = [(m.group(1), m.group(2)) for line in proc.stdout.splitlines() for m in KATIB_DEFAULT_FILTER.finditer(line)]
    names = [n for n, _ in pairs]
    assert names == ["accuracy_1", "loss"] * 3  # nothing else looks like a metric
    accuracies = [float(v) for n, v in pairs if n == "accuracy_1"]
    assert all(0 <= a <= 1 for a in accuracies) and accuracies[-1] > 0.85


def test_the_script_rejects_bad_arguments():
    proc = subprocess.run(
        [sys.executable, str(TRAINER), "--learning_rate=-1"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "learning_rate" in proc.stderr


def test_builder_writes_a_readable_table_with_provenance(tmp_path):
    out = tmp_path / "t.csv"
    assert builder.main(
        ["--out", str(out), "--seeds", "2", "--epochs", "2", "--learning-rates", "0.01", "0.05",
         "--batch-sizes", "64", "128"]
    ) == 0
    table = read_table(out)
    assert table.accuracy.shape == (2, 2, 2, 2)
    assert table.learning_rates.tolist() == [0.01, 0.05] and table.batch_sizes.tolist() == [64, 128]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert "digits" in meta["dataset"]["name"] and "NOT MNIST" in meta["dataset"]["name"]
    assert meta["grid"]["epochs"] == 2 and meta["runs"] == 8
    assert meta["versions"]["numpy"] == np.__version__
    assert meta["trainer"]["sha256"] == builder._sha256(TRAINER)


@pytest.mark.parametrize("lr,bs,seed", [(0.3, 256, 4), (0.01, 128, 2), (0.002, 200, 0)])
def test_the_shipped_table_is_what_this_trainer_produces(trainer, data, lr, bs, seed):
    """Retrain a few grid points: a trainer change that alters the numbers means the table is stale
    (rebuild with ``.venv/bin/python -m katibsim_plugins.objectives.build_mnist_table``)."""
    table = read_table(shipped_table_path())
    i = int(np.flatnonzero(np.isclose(table.learning_rates, lr))[0])
    j = int(np.flatnonzero(table.batch_sizes == bs)[0])
    k = table.seeds.index(seed)
    history = trainer.train(lr, bs, epochs=table.epochs, seed=seed, data=data)
    np.testing.assert_allclose([m.accuracy for m in history], table.accuracy[i, j, k], atol=1e-6)
    np.testing.assert_allclose([m.loss for m in history], table.loss[i, j, k], atol=1e-5)


@pytest.mark.slow
def test_rebuilding_the_shipped_table_reproduces_it(tmp_path):
    """Training is deterministic: a full rebuild gives the same accuracies and losses (times differ)."""
    out = tmp_path / "rebuilt.csv"
    assert builder.main(["--out", str(out), "--jobs", "2"]) == 0
    rebuilt, shipped = read_table(out), read_table(shipped_table_path())
    np.testing.assert_array_equal(rebuilt.learning_rates, shipped.learning_rates)
    np.testing.assert_array_equal(rebuilt.batch_sizes, shipped.batch_sizes)
    np.testing.assert_allclose(rebuilt.accuracy, shipped.accuracy, atol=1e-6)
    np.testing.assert_allclose(rebuilt.loss, shipped.loss, atol=1e-5)
