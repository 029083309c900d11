"""The cluster checks without a cluster: what a process runs with, how two environments differ, the worker-side guard."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim import executors
from katibsim.runner import Event, compute, plan

from .conftest import write_scenario


def _tasks(tmp_path):
    from katibsim.scenario import load_scenarios

    return plan(load_scenarios(write_scenario(tmp_path))[0], tmp_path / "out")


def test_needed_plugins_are_each_variants_algorithm_and_the_objective(tmp_path):
    assert executors.needed_plugins(_tasks(tmp_path)) == [
        ("algorithms", "katibsim-bo"), ("algorithms", "random"), ("objectives", "seed-1d")]


def test_environment_names_who_provides_each_plugin(tmp_path):
    env = executors.environment([("algorithms", "random"), ("algorithms", "no-such-algorithm")])
    assert env["katibsim"] == __import__("katibsim").__version__
    assert set(env["code"]) == {"katibsim", "katibsim_plugins"}
    assert env["plugins"]["algorithms:random"]["distribution"] == "katibsim"
    assert env["plugins"]["algorithms:no-such-algorithm"] is None
    assert executors.differences(env, executors.environment([("algorithms", "random"), ("algorithms", "no-such-algorithm")])) == []


BASE = {
    "katibsim": "1.0", "code": {"katibsim": "aa", "katibsim_plugins": "bb"}, "python": "3.11",
    "numpy": "2.4.6", "scipy": "1.17.1",
    "plugins": {
        "algorithms:bo": {"plugin": "bo", "distribution": "katibsim", "version": "1.0"},
        "algorithms:ext": {"plugin": "ext", "distribution": "ext-dist", "version": "2.0"},
    },
}


@pytest.mark.parametrize(
    "change, want",
    [
        ({"katibsim": "0.9"}, ["katibsim 0.9 there, 1.0 here"]),
        ({"code": {"katibsim": "zz", "katibsim_plugins": "bb"}}, ["katibsim 1.0 on both sides but different files in katibsim (an edited checkout or another build)"]),
        ({"numpy": "2.3.0"}, ["numpy 2.3.0 there, 2.4.6 here"]),
        ({"python": "3.12"}, ["python 3.12 there, 3.11 here"]),
        ({"plugins": {"algorithms:bo": BASE["plugins"]["algorithms:bo"]}}, ["no algorithm plugin 'ext' there (here: plugin ext (ext-dist 2.0))"]),
        ({"plugins": {**BASE["plugins"], "algorithms:ext": {"plugin": "ext", "distribution": "ext-dist", "version": "1.9"}}},
         ["algorithm plugin 'ext' is plugin ext (ext-dist 1.9) there, plugin ext (ext-dist 2.0) here"]),
        ({"error": "katibsim cannot be imported there (ModuleNotFoundError: x)"}, ["katibsim cannot be imported there (ModuleNotFoundError: x)"]),
    ],
)
def test_each_difference_is_one_sentence(change, want):
    assert executors.differences(BASE, {**BASE, **change}) == want


def test_a_built_in_plugin_is_not_repeated_when_katibsim_differs():
    other = {**BASE, "katibsim": "0.9", "plugins": {**BASE["plugins"], "algorithms:bo": {"plugin": "bo", "distribution": "katibsim", "version": "0.9"}}}
    assert executors.differences(BASE, other) == ["katibsim 0.9 there, 1.0 here"]


@given(st.sampled_from(["katibsim", "python", "numpy", "scipy"]), st.text(min_size=1, max_size=8))
def test_any_changed_version_is_a_difference_and_only_a_change_is(key, value):
    assert executors.differences(BASE, dict(BASE)) == []
    other = {**BASE, key: value}
    assert bool(executors.differences(BASE, other)) == (value != BASE[key])


def test_the_worker_guard_refuses_to_run_with_other_code(tmp_path):
    task = _tasks(tmp_path)[0]
    needs = executors.needed_plugins([task])
    mine = executors.environment(needs)
    text, _ = executors.run_on_worker(compute, mine, needs, task)
    assert text == compute(task)[0]
    with pytest.raises(executors.WorkerMismatch, match="differs from the client: katibsim 0.1.0 there, 9.9 here"):
        executors.run_on_worker(compute, {**mine, "katibsim": "9.9"}, needs, task)


HIDE_KATIBSIM = """
import pickle, sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('katibsim', 'katibsim_plugins'):
            raise ModuleNotFoundError(f'No module named {name!r}')
sys.meta_path.insert(0, Hide())
probe = pickle.loads(sys.stdin.buffer.read())
print(probe([('algorithms', 'random')])['error'])
"""


def test_the_probe_travels_by_value_to_a_process_without_katibsim():
    import pickle
    import subprocess
    import sys

    import cloudpickle

    probe = executors._probe()
    assert probe([("algorithms", "random")])["plugins"]["algorithms:random"] is not None
    out = subprocess.run([sys.executable, "-c", HIDE_KATIBSIM], input=cloudpickle.dumps(probe), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().startswith("katibsim cannot be imported there (ModuleNotFoundError")
    assert pickle.loads(cloudpickle.dumps(probe)).__module__ == "katibsim_worker_probe"


def test_no_scheduler_means_the_local_pool(tmp_path):
    with executors.open_runs(None, _tasks(tmp_path)) as runs:
        assert runs.executor is None and runs.workers is None


def test_progress_shows_the_connected_workers():
    from katibsim.commands.compare import _Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    class Task:
        label = "s/v/seed-0"

    for stream, want in ((Tty(), " 2 workers s/v/seed-0"), (io.StringIO(), "[1/2] s/v/seed-0 done in 0.50s (2 workers)\n")):
        p = _Progress(stream)
        p(Event("start", None, 0, 2))
        p(Event("done", Task(), 1, 2, 0.5, workers=2))
        assert want in stream.getvalue()


def test_the_code_digest_sees_code_and_data_not_caches(tmp_path):
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "a.py").write_text("x = 1\n")
    (root / "sub" / "b.py").write_text("y = 2\n")
    (root / "data" / "table.csv").write_text("1,2\n")
    first = executors.digest_tree(root)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (root / ".a.py.swp").write_text("junk")
    (root / "notes.txt").write_text("not installed")
    assert executors.digest_tree(root) == first
    (root / "sub" / "b.py").write_text("y = 3\n")
    assert executors.digest_tree(root) != first
    (root / "sub" / "b.py").write_text("y = 2\n")
    (root / "data" / "table.csv").write_text("1,3\n")
    assert executors.digest_tree(root) != first
