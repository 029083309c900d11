"""Fuzzing `check-metrics` with random logs, filters and event folders (named pipes, links, garbage
files included): exit 0, 1 or 2 only, never a traceback or a hang; RE2 keeps hostile filters linear."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_helpers import assert_clean_inprocess, run_inprocess

FEW = settings(max_examples=int(os.environ.get("KATIBSIM_FUZZ_FEW", "4")), deadline=None,
               suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=int(os.environ.get("KATIBSIM_FUZZ_MANY", "400")), deadline=None,
                suppress_health_check=list(HealthCheck))

METRICS = ["accuracy", "loss", "Validation-accuracy", "a|b", "acc", "train/accuracy", "é"]
FILTERS = [
    r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)", r"([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?)", r"(.*)(.*)(.*)(.*)=(y)",
    r"((a|aa)*)(b)", r"(\pL+)=(\d+)", r"(?U)(.+)=(.+)", r"(x)\C(y)", r"(a", r"(?=x)(a)(b)", r"(a)\1", r"(a);(b)",
    r"(\w+) (\d+)", r"()()", r"(?i)(ACC)=(\S*)", r"(a{1000}){1000}(b)", r"[[:alpha:]](x)(y)", r"\Q(\E(a)(b)",
]
log_text = st.text(alphabet=st.sampled_from(list("accuracylossVvalid-|=:.,{}'\" \t\r\n0123456789eE+-nanxyé€\x00")), max_size=400)
long_line = st.integers(0, 3).map(lambda k: ("x" * 300 + "=" + "z" * 300 + "\n") * k)
json_lines = st.lists(
    st.dictionaries(st.sampled_from(["accuracy", "loss", "timestamp", "acc"]),
                    st.one_of(st.text(max_size=8), st.floats(allow_nan=False), st.integers(-10**20, 10**20), st.none(),
                              st.just(253402300800.0), st.just("10000-01-01T00:00:00Z")), max_size=4),
    max_size=6,
).map(lambda objs: "\n".join(json.dumps(o) for o in objs))
raw_bytes = st.binary(max_size=300)


@st.composite
def text_case(draw):
    collector = draw(st.sampled_from(["StdOut", "File"]))
    fmt = draw(st.sampled_from(["TEXT", "JSON"])) if collector == "File" else "TEXT"
    names = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True))
    filters = draw(st.lists(st.sampled_from(FILTERS), max_size=2)) if fmt == "TEXT" else []
    body = draw(st.one_of(log_text, json_lines, raw_bytes, long_line))
    return collector, fmt, names, filters, body, draw(st.booleans())


def exercise_text(case) -> None:
    collector, fmt, names, filters, body, show_all = case
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "train.log"
        log.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"))
        args = ["--collector", collector]
        if collector == "File":
            args += ["--format", fmt]
        for f in filters:
            args += ["--filter", f]
        for n in names:
            args += ["--metric", n]
        args += (["--all"] if show_all else []) + ["-o", "json" if show_all else "text", str(log)]
        assert_clean_inprocess(run_inprocess("check-metrics", *args), f"check-metrics {args}")


ENTRY_KINDS = ("events", "garbage", "empty", "fifo", "loop", "dir-link", "subdir-events", "bad-proto")


@st.composite
def event_case(draw):
    entries = draw(st.lists(st.tuples(st.sampled_from(ENTRY_KINDS), st.lists(
        st.tuples(st.sampled_from(["accuracy", "accuracy_1", "loss", "train/accuracy", "acc"]), st.integers(0, 5),
                  st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), st.floats(0, 4e11)), max_size=4)), min_size=1, max_size=4))
    names = draw(st.lists(st.sampled_from(["accuracy", "loss", "train/accuracy", "accuracy_1"]), min_size=1, max_size=2,
                          unique=True))
    return entries, names


def _build_events(folder: Path, entries) -> None:
    import tensorboardX

    for i, (kind, points) in enumerate(entries):
        if kind in ("events", "subdir-events"):
            where = folder / (f"sub{i}/train" if kind == "subdir-events" else f"run{i}")
            w = tensorboardX.SummaryWriter(str(where))
            for tag, step, value, wall in points:
                w.add_scalar(tag, value, step, walltime=wall)
            w.close()
        elif kind == "garbage":
            (folder / f"events.out.tfevents.{i}.garbage").write_bytes(os.urandom(64))
        elif kind == "empty":
            (folder / f"events.out.tfevents.{i}.empty").write_bytes(b"")
        elif kind == "fifo":
            os.mkfifo(folder / f"events.out.tfevents.{i}.fifo")
        elif kind == "loop":
            link = folder / f"events.out.tfevents.{i}.loop"
            if not link.exists():
                os.symlink(link.name, link)  # a link to itself
        elif kind == "dir-link":
            os.symlink(".", folder / f"again{i}")  # a directory link back to the folder (os.walk does not follow)
        elif kind == "bad-proto":
            (folder / f"events.out.tfevents.{i}.bad").write_bytes(b"\x18\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 30)


def exercise_events(case) -> None:
    entries, names = case
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "train"
        folder.mkdir()
        _build_events(folder, entries)
        args = ["--collector", "TensorFlowEvent", *[a for n in names for a in ("--metric", n)], str(folder)]
        assert_clean_inprocess(run_inprocess("check-metrics", *args), f"check-metrics events {entries!r}")


@FEW
@given(text_case())
def test_random_logs_and_filters(case):
    exercise_text(case)


@FEW
@given(event_case())
def test_random_event_folders(case):
    exercise_events(case)


@pytest.mark.slow
@MANY
@given(text_case())
def test_many_random_logs_and_filters(case):
    exercise_text(case)


@pytest.mark.slow
@settings(MANY, max_examples=max(20, MANY.max_examples // 4))
@given(event_case())
def test_many_random_event_folders(case):
    exercise_events(case)
