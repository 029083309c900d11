"""Regenerate ``plugins/data/mnist_tfjob.csv``: real training runs behind the ``mnist-tfjob`` objective.

Runs the tiny trainer ``examples/trainers/mnist_with_summaries.py`` (scikit-learn's digits, the
seed script's MLP in numpy, Adam) over a grid of learning rates x batch sizes x seeds, one BLAS
thread per run, and writes one CSV row per (lr, batch size, seed, epoch) plus a sidecar JSON
(``mnist_tfjob.json``) saying exactly what was trained, with which versions, when and how.

    .venv/bin/python -m katibsim_plugins.objectives.build_mnist_table            # the shipped grid
    .venv/bin/python -m katibsim_plugins.objectives.build_mnist_table --seeds 2 --out results/mnist_tfjob.csv

A developer tool: it needs a checkout (the trainer lives in ``examples/``) and scikit-learn.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import importlib.util
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Sequence

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TRAINER = REPO / "examples" / "trainers" / "mnist_with_summaries.py"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "mnist_tfjob.csv"
# A 1-2-3-5 series: roughly log-spaced, and 0.01 / 0.05 (the seed's bounds) are grid points.
LEARNING_RATES = (0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3)
BATCH_SIZES = (32, 64, 100, 128, 150, 200, 256)
SEEDS = 5
EPOCHS = 20
COLUMNS = ("learning_rate", "batch_size", "seed", "epoch", "accuracy", "loss", "seconds", "cpu_seconds")

_worker: dict = {}


def load_trainer(path: Path) -> ModuleType:
    """Import the trainer script as a module (it is an example, not part of the package)."""
    if not path.is_file():
        raise SystemExit(f"trainer not found: {path} (run from a checkout, or pass --trainer)")
    spec = importlib.util.spec_from_file_location("katibsim_example_trainer", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _single_thread() -> None:
    # Timings are "one core" numbers; a multi-threaded BLAS would make them machine-dependent.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass


def _init_worker(trainer_path: str) -> None:
    _single_thread()
    trainer = load_trainer(Path(trainer_path))
    _worker["trainer"] = trainer
    _worker["data"] = trainer.load_data()


def _run(job: tuple[float, int, int, int]) -> list[tuple]:
    lr, batch_size, seed, epochs = job
    trainer = _worker["trainer"]
    history = trainer.train(lr, batch_size, epochs=epochs, seed=seed, data=_worker["data"])
    return [
        (lr, batch_size, seed, m.epoch, round(m.accuracy, 6), round(m.loss, 6), round(m.seconds, 4),
         round(m.cpu_seconds, 4))
        for m in history
    ]


def _progress(done: int, total: int) -> None:
    print(f"\r{done}/{total} runs", end="", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {"python": platform.python_version(), "numpy": numpy.__version__, "scikit-learn": sklearn.__version__}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_mnist_table", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (a .json sidecar goes next to it)")
    parser.add_argument("--trainer", type=Path, default=DEFAULT_TRAINER)
    parser.add_argument("--learning-rates", type=float, nargs="+", default=list(LEARNING_RATES))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds 0..N-1 per grid point")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (timings are noisier above 1)")
    args = parser.parse_args(argv)

    jobs = [
        (lr, bs, seed, args.epochs)
        for lr in sorted(args.learning_rates)
        for bs in sorted(args.batch_sizes)
        for seed in range(args.seeds)
    ]
    trainer_sha256 = _sha256(args.trainer)  # of the code that runs, not of a later edit
    load_at_start = _load()
    started = time.perf_counter()
    date = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    rows: list[tuple] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, initializer=_init_worker, initargs=(str(args.trainer),)) as pool:
            for k, chunk in enumerate(pool.map(_run, jobs, chunksize=2), 1):
                rows.extend(chunk)
                _progress(k, len(jobs))
    else:
        _init_worker(str(args.trainer))
        for k, job in enumerate(jobs, 1):
            rows.extend(_run(job))
            _progress(k, len(jobs))
    print(file=sys.stderr)
    wall = time.perf_counter() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    trainer = load_trainer(args.trainer)
    data = trainer.load_data()
    provenance = {
        "what": "per-epoch test accuracy/loss of real training runs; the table behind the mnist-tfjob objective",
        "columns": {
            "learning_rate": "Adam learning rate (--learning_rate)",
            "batch_size": "mini-batch size (--batch_size)",
            "seed": "--seed: initialisation, shuffling and dropout masks",
            "epoch": "1-based epoch",
            "accuracy": "test-set accuracy after the epoch (the trainer's accuracy_1)",
            "loss": "mean test-set cross-entropy after the epoch",
            "seconds": "wall seconds since training started, at the end of the epoch (one BLAS thread; "
            "inflated when the machine was busy, see load_average)",
            "cpu_seconds": "process CPU seconds since training started, at the end of the epoch (robust to load)",
        },
        "dataset": {
            "name": "scikit-learn digits (sklearn.datasets.load_digits), 8x8 grey-scale, 10 classes; NOT MNIST",
            "samples": int(len(data.y_train) + len(data.y_test)),
            "train": int(len(data.y_train)),
            "test": int(len(data.y_test)),
            "split": f"stratified, test fraction {trainer.TEST_FRACTION}, fixed split seed {trainer.SPLIT_SEED}",
            "preprocessing": "pixels / 16",
        },
        "model": (
            f"MLP 64-{trainer.HIDDEN_UNITS}-10 in numpy: ReLU, dropout keep {trainer.KEEP_PROB}, softmax "
            "cross-entropy, truncated-normal(0.1) weights, 0.1 biases (the seed script's architecture)"
        ),
        "optimizer": "Adam (beta1 0.9, beta2 0.999, epsilon 1e-8, TensorFlow's bias-corrected step)",
        "grid": {
            "learning_rates": sorted(args.learning_rates),
            "batch_sizes": sorted(args.batch_sizes),
            "seeds": list(range(args.seeds)),
            "epochs": args.epochs,
        },
        "runs": len(jobs),
        "jobs": args.jobs,
        "build_wall_seconds": round(wall, 1),
        "date": date,
        "command": "python -m katibsim_plugins.objectives.build_mnist_table " + " ".join(
            argv if argv is not None else sys.argv[1:]
        ),
        "trainer": {"path": "examples/trainers/mnist_with_summaries.py", "sha256": trainer_sha256},
        "versions": _versions(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": _load(),
        },
    }
    args.out.with_suffix(".json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"wrote {args.out} ({len(rows)} rows, {len(jobs)} runs, {wall:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
