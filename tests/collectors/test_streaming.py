"""Logs are read as streams: bounded memory, the same result in any chunking, no blocking on pipes."""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.cli import main
from katibsim.collectors import collect
from katibsim.collectors.collect import NotRegularFile, collect_chunks, read_chunks
from katibsim.spec.model import FileSystemPath, MetricsCollectorSpec

STDOUT = MetricsCollectorSpec(kind="StdOut")
FILE_TEXT = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path="/m.log", kind="File", format="TEXT"))
JSON = MetricsCollectorSpec(kind="File", file_system_path=FileSystemPath(path="/m.json", kind="File", format="JSON"))
NOISE = "469/469 [==============================] - 3s 6ms/step - progress " * 2 + "\n"


def write_log(path: Path, megabytes: int, every: int = 1000) -> int:
    """A log of about ``megabytes`` MB: noise lines with an accuracy line every ``every`` lines."""
    lines = 0
    target = megabytes * 1_000_000
    with open(path, "w") as f:
        written = 0
        while written < target:
            block = NOISE * (every - 1) + f"epoch {lines} accuracy=0.{lines % 97:02d} loss=1.5\n"
            f.write(block)
            written += len(block)
            lines += every
    return lines


def finishes(fn, timeout: float = 20.0):
    """Run ``fn`` in a thread; the test fails (instead of hanging) when it does not return."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - re-raised below
            box["error"] = err

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"did not return within {timeout} s (blocked?)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_a_big_log_is_collected_in_bounded_memory(tmp_path):
    log = tmp_path / "train.log"
    lines = write_log(log, 12)
    size = log.stat().st_size
    tracemalloc.start()
    try:
        result = collect(STDOUT, ["accuracy", "loss"], path=log, all_lines=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.objective_collected
    assert len(result.collected) == 2 * (lines // 1000)  # every metric line taken
    assert peak < size / 3, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB log"
    assert result.lines_not_shown > 50_000 and result.explanations == tuple(e for e in result.explanations if e.relevant)


def test_the_file_is_never_read_whole(tmp_path, monkeypatch):
    log = tmp_path / "m.log"
    log.write_text("accuracy=0.5\nnoise\naccuracy=0.7\n")

    def whole(*_a, **_k):
        raise AssertionError("a log must be streamed, not read whole")

    monkeypatch.setattr(Path, "read_bytes", whole)
    monkeypatch.setattr(Path, "read_text", whole)
    for spec in (STDOUT, FILE_TEXT):
        assert collect(spec, ["accuracy"], path=log).raw("accuracy").latest == "0.7"


@given(
    st.text(alphabet=st.sampled_from(list("accuracy=0.5 loss\n\r{}\"é€😀\t")), max_size=200),
    st.lists(st.integers(1, 7), min_size=1, max_size=10),
)
@settings(max_examples=40, deadline=None)
def test_any_chunking_gives_the_whole_text_result(text, cuts):
    pieces, i, k = [], 0, 0
    while i < len(text):
        n = cuts[k % len(cuts)]
        pieces.append(text[i : i + n])
        i, k = i + n, k + 1
    for spec in (STDOUT, JSON):
        whole = collect(spec, ["accuracy", "loss"], text=text)
        chunked = collect_chunks(spec, ["accuracy", "loss"], pieces)
        assert chunked.logs == whole.logs and chunked.raw_metrics == whole.raw_metrics
        assert chunked.explanations == whole.explanations and chunked.collector_error == whole.collector_error


@given(st.binary(max_size=300), st.integers(1, 9))
@settings(max_examples=40, deadline=None)
def test_incremental_decoding_equals_decoding_the_whole_file(tmp_path_factory, data, chunk):
    p = tmp_path_factory.mktemp("b") / "x.log"
    p.write_bytes(data)
    assert "".join(read_chunks(p, chunk_size=chunk)) == data.decode("utf-8", errors="replace")


def test_explanations_are_budgeted_but_every_line_is_collected():
    text = "".join(f"accuracy={i}\n" for i in range(50))
    result = collect(STDOUT, ["accuracy"], text=text, max_explanations=10)
    assert len(result.explanations) == 10 and result.explanations_cut == 41  # 50 lines and the empty last one
    assert len(result.collected) == 50 and result.raw("accuracy").max == "49"


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "metrics.log"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match="named pipe"):
        finishes(lambda: list(read_chunks(fifo)))
    result = finishes(lambda: collect(FILE_TEXT, ["accuracy"], path=fifo))
    assert not result.reported and "not a regular file" in result.collector_error


def test_a_named_pipe_among_event_files_is_skipped_and_said(tmp_path):
    os.mkfifo(tmp_path / "events.out.tfevents.1700000000.host")
    tf = MetricsCollectorSpec(kind="TensorFlowEvent", file_system_path=FileSystemPath(path="/train", kind="Directory"))
    result = finishes(lambda: collect(tf, ["accuracy"], path=tmp_path))
    assert any("not regular files" in w and "events.out.tfevents" in w for w in result.warnings)
    assert any("skipped: not a regular file (a named pipe)" in r for e in result.explanations for r in e.reasons)


def test_check_metrics_refuses_a_named_pipe_with_exit_2(tmp_path, capsys):
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    code = finishes(lambda: main(["check-metrics", "--collector", "StdOut", "--metric", "accuracy", str(fifo)]))
    assert code == 2
    assert "not a regular file" in capsys.readouterr().err


def test_check_metrics_says_how_many_lines_it_did_not_explain(tmp_path, capsys):
    log = tmp_path / "train.log"
    log.write_text("noise\n" * 5 + "".join(f"accuracy={i}\n" for i in range(3)))
    assert main(["check-metrics", "--collector", "StdOut", "--metric", "accuracy", str(log)]) == 0
    out = capsys.readouterr().out
    assert "(6 lines with no metric in sight not shown; --all shows them)" in out
    assert main(["check-metrics", "--collector", "StdOut", "--metric", "accuracy", "--all", str(log)]) == 0
    assert "line 1: 'noise'" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc")
def test_a_2_gigabyte_log_is_collected_in_bounded_memory(tmp_path):
    """The audit's 2.2 GB log (slow profile): check-metrics streams it; its peak memory stays small."""
    import subprocess
    import sys

    log = tmp_path / "huge.log"
    write_log(log, 2200, every=100_000)
    proc = subprocess.run(
        [sys.executable, "-c",
         # VmHWM: this process's own peak (ru_maxrss would include the forked pytest's size, kept across exec)
         "import sys; from katibsim.cli import main; code = main(sys.argv[1:]); "
         "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
         "print('maxrss_kb', hwm, file=sys.stderr); sys.exit(code)",
         "check-metrics", "--collector", "StdOut", "--metric", "accuracy", str(log)],
        capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    maxrss_kb = int(proc.stderr.rsplit("maxrss_kb", 1)[1].split()[0])
    print(f"2.2 GB log: {log.stat().st_size / 1e9:.2f} GB read, peak RSS {maxrss_kb / 1000:.0f} MB")
    assert maxrss_kb < 250_000, f"peak RSS {maxrss_kb / 1000:.0f} MB for a 2.2 GB log"
    assert "objective 'accuracy' collected" in proc.stdout
