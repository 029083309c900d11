"""Event files written by a real writer (tensorboardX) for the TensorFlowEvent collector tests."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pytest

tensorboardX = pytest.importorskip("tensorboardX")


def write_scalars(logdir: Path, points: Iterable[tuple[str, int, float, float]]) -> None:
    """Old-style (TF1, PyTorch) scalars: ``SummaryWriter.add_scalar`` writes ``simple_value``."""
    writer = tensorboardX.SummaryWriter(str(logdir))
    for tag, step, value, wall in points:
        writer.add_scalar(tag, value, step, walltime=wall)
    writer.close()


def write_tensors(logdir: Path, points: Iterable[tuple[str, int, float, float]], dtype=np.float32) -> None:
    """TF2-style scalars, as ``tf.summary.scalar`` writes them: a 0-d tensor with plugin "scalars"."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    writer = tensorboardX.FileWriter(str(logdir))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    for tag, step, value, wall in points:
        if dtype == np.float64:
            tensor = TensorProto(dtype=2, tensor_shape=TensorShapeProto(), double_val=[float(value)])  # DT_DOUBLE
        else:
            tensor = TensorProto(dtype=1, tensor_shape=TensorShapeProto(), float_val=[float(value)])  # DT_FLOAT
        writer.add_summary(Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)]), step, wall)
    writer.close()


@pytest.fixture
def event_dir(tmp_path: Path) -> Path:
    """A directory shaped like Katib's TFJob example: train/ (scalars) and test/ (TF2 tensors)."""
    base = 1_700_000_000.0
    write_scalars(
        tmp_path / "train",
        [(tag, s, v, base + 10 * s) for s in range(3) for tag, v in (("accuracy", 0.5 + 0.1 * s), ("loss", 1.0 / (s + 1)))],
    )
    write_tensors(
        tmp_path / "test",
        [(tag, s, v, base + 10 * s + 1) for s in range(3) for tag, v in (("accuracy_1", 0.6 + 0.1 * s), ("accuracy_top5", 0.99))],
    )
    return tmp_path
