"""Bad scenario files through `katibsim compare`: every one a field-path error (exit 2), all at once, with a did-you-mean."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from katibsim.cli import main
from katibsim.scenario import problems
from katibsim.scenario.reader import read_scenario

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "examples" / "seed-1d-random.yaml"

BASE = f"""\
name: h
experiment: {EXPERIMENT}
objective: seed-1d
seeds: {{count: 2, master: 1}}
variants:
  - {{name: rand, algorithm: random}}
"""


def compare(tmp_path: Path, text: str | bytes, *extra: str, capsys) -> tuple[int, str, Path]:
    path = tmp_path / "s.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["compare", str(path), "--out", str(out), "--jobs", "1", "--no-png", *extra])
    err = capsys.readouterr().err
    return code, err, out


@pytest.mark.parametrize(
    "text, where",
    [
        (BASE + "assertions: [{kind: [invariant]}]\n", "assertions[0].kind"),
        (BASE + "assertions: [{kind: invariant, check: [no-duplicates]}]\n", "assertions[0].check"),
        (BASE + "report: {baseline: [rand]}\n", "report.baseline"),
        (BASE + "report: {introspect: {variant: {a: 1}}}\n", "report.introspect.variant"),
        (BASE + "assertions: [{kind: threshold, variant: rand, metric: final-best, aggregate: [median], max: 1}]\n",
         "assertions[0].aggregate"),
        (BASE + "assertions: [{kind: paired, better: rand, than: [rand], metric: auc, test: {a: b}}]\n", "assertions[0].than"),
        (BASE + "assertions: [{kind: invariant, check: no-duplicates, description: [x]}]\n", "assertions[0].description"),
        (BASE.replace(f"experiment: {EXPERIMENT}", 'experiment: {objective: "12"}'), "experiment.spec.objective"),
        (BASE.replace(f"experiment: {EXPERIMENT}", "experiment: {parameters: 3, objective: {type: maximize}}"),
         "experiment.spec.parameters"),
        (BASE + "simulation: {failure_region: 3}\n", "simulation"),
        (BASE + "seeds: {count: 3}\n", "seeds: duplicate key"),
        (BASE.replace("{name: rand, algorithm: random}", "{name: rand, algorithm: random, name: again}"),
         "variants[0].name: duplicate key"),
    ],
)
def test_a_wrong_shape_is_a_field_path_error_and_exit_2(tmp_path, capsys, text, where):
    code, err, out = compare(tmp_path, text, capsys=capsys)
    assert code == 2, err
    assert f"{tmp_path / 's.yaml'}: {where}" in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert not out.exists()  # nothing ran


def test_a_file_that_is_not_utf8_names_the_file_and_the_byte(tmp_path, capsys):
    code, err, _ = compare(tmp_path, BASE.encode() + b"description: caf\xe9\n", capsys=capsys)
    assert code == 2
    assert f"{tmp_path / 's.yaml'}: not UTF-8 text (byte" in err


def test_an_experiment_file_that_is_not_utf8_or_repeats_a_key_is_an_error_at_experiment(tmp_path, capsys):
    exp = tmp_path / "e.yaml"
    exp.write_bytes(EXPERIMENT.read_bytes() + b"# \xff\n")
    code, err, _ = compare(tmp_path, BASE.replace(str(EXPERIMENT), str(exp)), capsys=capsys)
    assert code == 2 and f"{tmp_path / 's.yaml'}: experiment: " in err and "not UTF-8" in err
    exp.write_text(EXPERIMENT.read_text() + "kind: Experiment\n")
    code, err, _ = compare(tmp_path, BASE.replace(str(EXPERIMENT), str(exp)), capsys=capsys)
    assert code == 2 and "experiment: " in err and "kind: duplicate key" in err


def test_1200_levels_of_nesting_is_an_error_not_a_crash(tmp_path, capsys):
    deep = "[" * 1200 + "]" * 1200
    code, err, _ = compare(tmp_path, BASE + f"simulation: {{x: {deep}}}\n", capsys=capsys)
    assert code == 2
    assert f"{tmp_path / 's.yaml'}: nesting too deep" in err


def test_three_mistakes_are_three_errors_in_one_run(tmp_path, capsys):
    # One the reader finds, one only the plugins can see, one in an assertion.
    text = BASE.replace("seeds: {count: 2, master: 1}", "seeds: {count: 2, mastr: 1}").replace(
        "algorithm: random}", "algorithm: random}\n  - {name: bo, algorithm: bayesianoptimization, settings: {kappa: -1}}"
    ) + "assertions: [{kind: invariant, check: no-duplicates, variants: [bo, rnd]}]\n"
    code, err, out = compare(tmp_path, text, capsys=capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith(str(tmp_path))]
    assert [line.split(": ")[1] for line in lines] == ["seeds.mastr", "assertions[0].variants[1]", "variants[1].settings.kappa"], err
    assert "3 problems" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "edit, where, hint",
    [
        (("seeds: {count: 2, master: 1}", "seeds: {cuont: 2, master: 1}"), "seeds.cuont", "did you mean count?"),
        (("objective: seed-1d", "objective: seed-1e"), "objective.name", "did you mean seed-1d?"),
        (("algorithm: random", "algorithm: randm"), "variants[0].algorithm", "did you mean random?"),
        (("variants:", "varaints:"), "varaints", "did you mean variants?"),
        (("seeds: {count: 2, master: 1}", "seeds: {count: 2, master: 1}\nassertions: [{kind: invariant, check: no-dupes}]"),
         "assertions[0].check", "did you mean no-duplicates?"),
        (("seeds: {count: 2, master: 1}", "seeds: {count: 2, master: 1}\nreport: {baseline: Rand}"),
         "report.baseline", "did you mean rand?"),
        (("seeds: {count: 2, master: 1}",
          "seeds: {count: 2, master: 1}\nassertions: [{kind: threshold, variant: rnad, metric: final-bset, aggregate: median, max: 1}]"),
         "assertions[0].variant", "did you mean rand?"),
    ],
)
def test_a_misspelt_name_gets_a_did_you_mean(tmp_path, capsys, edit, where, hint):
    code, err, _ = compare(tmp_path, BASE.replace(*edit), capsys=capsys)
    assert code == 2
    line = next((x for x in err.splitlines() if f": {where}: " in x), "")
    assert hint in line, err


def test_a_name_far_from_every_known_one_gets_no_guess(tmp_path, capsys):
    _, err, _ = compare(tmp_path, BASE.replace("algorithm: random", "algorithm: zzzzqqq"), capsys=capsys)
    assert "variants[0].algorithm" in err and "did you mean" not in err


# ---------------------------------------------------------------------------------------------
# The work limit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "edit, extra, field",
    [
        (("seeds: {count: 2, master: 1}", "seeds: {count: 1000000000, master: 1}"), (), "seeds.count: Invalid value: 1000000000"),
        ((), ("--seeds", "1000000000"), "--seeds: Invalid value: 1000000000"),
        (("seeds: {count: 2, master: 1}", "seeds: {count: 2}\nbudget: {maxTrialCount: 1000000000}"), (),
         "budget.maxTrialCount: Invalid value: 1000000000"),
        (("{name: rand, algorithm: random}", "{name: rand, algorithm: random, overrides: {maxTrialCount: 1000000000}}"), (),
         "variants[0].overrides.maxTrialCount"),
        (("{name: rand, algorithm: random}", "{name: r, algorithm: random, sweep: {maxTrialCount: [5, 1000000000]}}"), (),
         "variants[0].sweep.maxTrialCount"),
    ],
)
def test_a_huge_comparison_is_refused_naming_the_field(tmp_path, capsys, edit, extra, field):
    text = BASE.replace(*edit) if edit else BASE
    code, err, out = compare(tmp_path, text, *extra, capsys=capsys)
    assert code == 2, err
    assert field in err
    assert "--max-work N" in err and "--no-limit" in err
    assert not out.exists()


def test_a_sweep_with_many_values_is_refused_before_it_is_validated(tmp_path, capsys):
    values = ", ".join(str(i) for i in range(2000))
    text = BASE.replace("{name: rand, algorithm: random}", f"{{name: r, algorithm: random, sweep: {{random_state: [{values}]}}}}")
    code, err, _ = compare(tmp_path, text, "--max-work", "1000", capsys=capsys)
    assert code == 2
    assert "variants[0].sweep.random_state: Invalid value: 2000: makes this 4,000 run(s) of up to 120,000 trials" in err


def test_max_work_and_no_limit_lift_the_limit(tmp_path, capsys):
    # The experiment file has maxTrialCount 30: 2 seeds x 30 = 60 trials.
    code, err, out = compare(tmp_path, BASE, "--max-work", "59", capsys=capsys)
    assert code == 2
    assert f"{EXPERIMENT}: spec.maxTrialCount: Invalid value: 30: makes this 2 run(s) of up to 60 trials" in err
    assert not out.exists()
    code, err, out = compare(tmp_path, BASE, "--max-work", "60", capsys=capsys)
    assert code == 0, err
    code, err, out = compare(tmp_path, BASE, "--max-work", "1", "--no-limit", capsys=capsys)
    assert code == 0, err


def test_simulate_refuses_a_huge_max_trial_count(tmp_path, capsys):
    exp = tmp_path / "e.yaml"
    exp.write_text(EXPERIMENT.read_text().replace("maxTrialCount: 30", "maxTrialCount: 1000000000"))
    assert main(["simulate", str(exp), "--objective", "seed-1d"]) == 2
    err = capsys.readouterr().err
    assert f"{exp}: spec.maxTrialCount: Invalid value: 1000000000" in err and "--max-work N" in err
    assert main(["simulate", str(EXPERIMENT), "--objective", "seed-1d", "--max-work", "29", "-o", "table"]) == 2
    assert main(["simulate", str(EXPERIMENT), "--objective", "seed-1d", "--max-work", "30", "-o", "table"]) == 0
    assert main(["simulate", str(EXPERIMENT), "--objective", "seed-1d", "--max-work", "1", "--no-limit", "-o", "table"]) == 0


def test_progress_starts_before_the_first_run_ends():
    import io

    from katibsim.commands.compare import _Progress
    from katibsim.runner import Event

    class Tty(io.StringIO):
        def isatty(self):
            return True

    for stream, want in ((Tty(), "] 0/3 "), (io.StringIO(), "[0/3] starting 3 runs\n")):
        p = _Progress(stream, tick=0.01)
        p(Event("start", None, 0, 3))
        assert want in stream.getvalue()
        p.close()


# ---------------------------------------------------------------------------------------------
# Property: no value in any field makes the reader or the pre-flight raise
# ---------------------------------------------------------------------------------------------
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats(allow_nan=True) | st.text(max_size=8)
    | st.sampled_from(["random", "rand", "seed-1d", "median", "no-duplicates", "invariant", "90%", "by-order"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | st.sampled_from(["name", "kind", "spec"]), inner, max_size=3),
    max_leaves=6,
)

_FIELDS = [
    ("name",), ("description",), ("experiment",), ("experiment", "parameters"), ("experiment", "algorithm"),
    ("experiment", "objective"), ("experiment", "maxTrialCount"), ("experiment", "parameters", 0),
    ("experiment", "parameters", 0, "feasibleSpace"), ("variants", 0, "name"), ("variants", 0, "algorithm"), ("objective",), ("objective", "options"), ("objective", "mapping"),
    ("seeds",), ("seeds", "count"), ("budget",), ("budget", "maxTrialCount"), ("simulation",), ("target",),
    ("convergence",), ("report",), ("report", "introspect"), ("variants",), ("variants", 0), ("variants", 0, "settings"),
    ("variants", 0, "sweep"), ("variants", 0, "overrides"), ("variants", 0, "backend"), ("assertions",),
    ("assertions", 0), ("assertions", 0, "kind"), ("assertions", 0, "check"), ("assertions", 0, "variants"),
    ("assertions", 1, "seeds"), ("assertions", 1, "target"), ("assertions", 1, "within"), ("assertions", 2, "metric"),
    ("assertions", 2, "aggregate"), ("assertions", 2, "file"), ("assertions", 2, "baselineVariant"),
]


def _doc() -> dict:
    return {
        "name": "p",
        "experiment": {"objective": {"type": "maximize", "objectiveMetricName": "y"}, "algorithm": {"algorithmName": "random"},
                       "maxTrialCount": 3, "parameters": [{"name": "x", "parameterType": "double",
                                                           "feasibleSpace": {"min": "-2", "max": "10"}}]},
        "objective": {"name": "seed-1d"},
        "seeds": {"count": 2},
        "variants": [{"name": "rand", "algorithm": "random"}],
        "assertions": [
            {"kind": "invariant", "check": "no-duplicates"},
            {"kind": "target", "variant": "rand", "target": {"value": 1}, "seeds": {"atLeast": 1}},
            {"kind": "baseline", "variant": "rand", "metric": "final-best", "aggregate": "median", "file": "nope.json"},
        ],
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(_FIELDS), value=_VALUES)
def test_any_value_anywhere_is_reported_never_raised(field, value):
    doc = _doc()
    node = doc
    for part in field[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[field[-1]] = value
    sc, errors = read_scenario(doc, file="p.yaml")
    assert all(e.path is not None and e.file == "p.yaml" for e in errors)
    if sc is not None:
        found = problems(sc, errors)
        assert all(isinstance(e.message, str) for e in found)


def test_the_model_and_reader_import_no_backend():
    import subprocess
    import sys

    code = textwrap.dedent(
        """
        import sys
        import katibsim.scenario.model, katibsim.scenario.reader, katibsim.scenario.read_assertions
        print(sorted(m for m in sys.modules if m.startswith(("katibsim.backends", "katibsim.runner", "katibsim.plugins"))))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_the_scenario_runner_and_report_modules_are_in_no_import_cycle():
    """Every ``from katibsim... import`` (inside functions too) as an edge; no cycle may pass
    through the scenario package, the runner, the atomic writer or the report writers."""
    import ast

    pkg = ROOT / "katibsim"
    modules = {}
    for path in pkg.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module in modules:
                deps.add(node.module)
                deps |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules}
        graph[name] = deps - {name}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo.extend(graph.get(m, ()))
        return False

    ours = [m for m in modules if m.startswith("katibsim.scenario") or m in (
        "katibsim.runner", "katibsim.atomic", "katibsim.report.introspect", "katibsim.report.write", "katibsim.commands.compare")]
    assert len(ours) >= 10
    assert [m for m in ours if reaches(m, m)] == []
