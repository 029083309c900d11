"""TensorFlowEvent collection from event files written by tensorboardX and read back (§6.3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from katibsim.collectors import collect
from katibsim.collectors.tfevent import parse_tfevents, rfc3339_seconds, should_consider
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

from conftest import write_scalars, write_tensors  # noqa: E402  (tests/collectors/conftest.py)

TF = MetricsCollectorSpec(kind="TensorFlowEvent", file_system_path=FileSystemPath(kind="Directory"))


def test_should_consider_is_katibs_rule():
    assert should_consider("accuracy_1", "accuracy", "/train/events")
    assert should_consider("accuracy_top5", "accuracy", "/x/events")
    assert not should_consider("val_accuracy", "accuracy", "/x/events")
    assert should_consider("accuracy", "train/accuracy", "/logs/train/events")
    assert should_consider("accuracy", "train/accuracy", "/logs/mytrain/events")  # a string suffix, not a folder
    assert not should_consider("accuracy", "train/accuracy", "/logs/test/events")
    # "accuracy/": the last part is empty (every tag matches) and the folder must end with "accuracy".
    assert should_consider("anything", "accuracy/", "/logs/accuracy/events")
    assert not should_consider("anything", "accuracy/", "/x/events")


def test_scalars_and_tensors_read_back(event_dir):
    result = collect(TF, ["accuracy_1", "loss"], path=event_dir)
    acc = result.raw("accuracy_1")
    assert (acc.min, acc.max) == ("0.6", "0.8")  # str(ndarray(float32)) prints the short form
    loss = result.raw("loss")
    assert loss.max == "1.0" and loss.latest == str(np.float32(1 / 3).item())  # str(float) of a float32
    assert result.condition_hint is None and result.objective_collected
    assert [log.step for log in result.logs if log.name == "loss"] == [0, 1, 2]


def test_prefix_matching_takes_every_tag_that_starts_with_the_name(event_dir):
    result = collect(TF, ["accuracy"], path=event_dir)
    tags = {log.where.split("tag ")[1] for log in result.logs}
    assert tags == {"accuracy", "accuracy_1", "accuracy_top5"}
    assert result.raw("accuracy").max == "0.99"  # accuracy_top5 wins the max
    assert any("matches tags by prefix" in w for w in result.warnings)
    names = {log.name for log in result.logs}
    assert names == {"accuracy"}  # reported under the metric name, not the tag


def test_directory_qualified_metric(event_dir):
    result = collect(TF, ["test/accuracy", "train/accuracy"], path=event_dir)
    where = lambda name: sorted({log.where for log in result.logs if log.name == name})  # noqa: E731
    assert [w.split(": ")[1] for w in where("test/accuracy")] == ["tag accuracy_1", "tag accuracy_top5"]
    assert all(w.startswith("test/") for w in where("test/accuracy"))
    assert len(where("train/accuracy")) == 1 and where("train/accuracy")[0].startswith("train/")


def test_katib_path_decides_the_directory_check(tmp_path):
    write_scalars(tmp_path, [("accuracy", 0, 0.5, 1_700_000_000.0)])
    # Files directly in the local folder; the Experiment names the folder /train.
    spec = MetricsCollectorSpec(kind="TensorFlowEvent", file_system_path=FileSystemPath(path="/train", kind="Directory"))
    assert collect(spec, ["train/accuracy"], path=tmp_path).objective_collected
    assert not collect(TF, ["train/accuracy"], path=tmp_path).objective_collected


def test_timestamps_are_whole_seconds_so_same_second_events_tie(tmp_path):
    write_scalars(tmp_path / "a", [("accuracy", 0, 0.9, 1_700_000_000.2)])
    write_scalars(tmp_path / "b", [("accuracy", 1, 0.1, 1_700_000_000.1)])
    result = collect(TF, ["accuracy"], path=tmp_path)
    assert {log.timestamp for log in result.logs} == {rfc3339_seconds(1_700_000_000.0)} == {"2023-11-14T22:13:20+00:00"}
    # A tie: the last one reported (folder b) wins; str() of a float32 simple value.
    assert result.raw("accuracy").latest == "0.10000000149011612"


def test_missing_objective_is_unavailable_stamped_now(event_dir):
    result = collect(TF, ["val_loss", "loss"], path=event_dir, now=1_800_000_000.0)
    assert result.condition_hint == "MetricsUnavailable"
    assert [(log.name, log.value, log.timestamp) for log in result.logs] == [
        ("val_loss", "unavailable", rfc3339_seconds(1_800_000_000.0))
    ]


def test_non_event_files_and_broken_files_are_skipped(tmp_path):
    write_tensors(tmp_path, [("accuracy", 0, 0.5, 1_700_000_000.0)], dtype=np.float64)
    (tmp_path / "notes.txt").write_text("accuracy=0.9\n")
    (tmp_path / "events.out.tfevents.123.broken").write_bytes(b"\x00garbage\xff" * 10)
    result = collect(TF, ["accuracy"], path=tmp_path)
    assert [log.value for log in result.logs] == ["0.5"]
    reasons = {e.where: e.reasons[0] for e in result.explanations}
    assert "not an event file" in reasons["notes.txt"]
    assert "no scalar or tensor events" in reasons["events.out.tfevents.123.broken"]


def test_empty_or_missing_directory(tmp_path):
    assert collect(TF, ["accuracy"], path=tmp_path).condition_hint == "MetricsUnavailable"
    assert collect(TF, ["accuracy"], path=tmp_path / "missing").condition_hint == "MetricsUnavailable"


def test_parse_order_is_tensors_then_scalars(tmp_path):
    # One file holding an old-style scalar written first and a TF2 tensor written second.
    from tensorboardX import FileWriter
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    writer = FileWriter(str(tmp_path))
    writer.add_summary(Summary(value=[Summary.Value(tag="accuracy", simple_value=0.25)]), 0, 1_700_000_000.0)
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    tensor = TensorProto(dtype=1, tensor_shape=TensorShapeProto(), float_val=[0.75])
    writer.add_summary(Summary(value=[Summary.Value(tag="accuracy_1", tensor=tensor, metadata=meta)]), 0, 1_700_000_000.0)
    writer.close()
    parsed = parse_tfevents(tmp_path, ["accuracy"])
    assert [(m.tag.kind, m.tag.tag) for m in parsed.matches] == [("tensors", "accuracy_1"), ("scalars", "accuracy")]
    # Same second, so the DB keeps report order and the scalar, reported last, is latest.
    result = collect(TF, ["accuracy"], path=tmp_path)
    assert result.raw("accuracy").latest == "0.25" and result.raw("accuracy").max == "0.75"
