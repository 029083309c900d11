"""The plugin host: discovery, allow/deny lists, test isolation, load errors, duplicates, tracing."""

from __future__ import annotations

import sys
import textwrap
import uuid
from importlib import metadata
from pathlib import Path

import pytest

from katibsim import plugins
from katibsim.errors import PluginError
from katibsim.plugins import PluginHost

OWN = [ep for ep in metadata.entry_points(group="katibsim") if ep.dist and ep.dist.metadata["Name"] == "katibsim"]

ALGO = """
from katibsim.algorithm import Algorithm
from katibsim.hookspecs import hookimpl

class {cls}(Algorithm):
    name = {algo!r}
    def suggest(self, trials, count):
        return [self.space.sample(__import__("numpy").random.default_rng(0)) for _ in range(count)]

@hookimpl
def katibsim_register_algorithms(register):
{body}
"""


@pytest.fixture
def dist(tmp_path, monkeypatch):
    """Write an installed-looking distribution (a .dist-info with entry_points.txt) and its modules."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(name: str, version: str, modules: dict[str, str], entry_points: dict[str, str]):
        tag = uuid.uuid4().hex[:8]
        real = {m: f"{m}_{tag}" for m in modules}
        for m, code in modules.items():
            (tmp_path / f"{real[m]}.py").write_text(textwrap.dedent(code))
            made.append(real[m])
        info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = ["[katibsim]"] + [f"{k} = {real.get(v.split(':')[0], v.split(':')[0])}{':' + v.split(':')[1] if ':' in v else ''}" for k, v in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        return list(metadata.PathDistribution(info).entry_points)

    yield make
    for m in made:
        sys.modules.pop(m, None)


def algo_module(algo: str, body: str = "    register({cls})", cls: str = "Algo") -> str:
    return ALGO.format(cls=cls, algo=algo, body=body.format(cls=cls))


def host(eps=(), **env) -> PluginHost:
    under_test = env.pop("under_test", True)
    return PluginHost({k: v for k, v in env.items()}, under_test=under_test, entry_points=OWN + list(eps))


def test_builtins_are_entry_points_of_katibsim():
    names = {ep.name: ep.value for ep in OWN}
    assert names["katib_hyperopt"] == "katibsim_plugins.katib_hyperopt.plugin"
    assert names["katib_optuna"] == "katibsim_plugins.katib_optuna.plugin"
    for module in plugins.DEFAULT_PLUGINS:
        assert module in names.values(), f"{module} is in DEFAULT_PLUGINS but not declared in pyproject.toml"


def test_the_suite_runs_isolated():
    assert plugins.host()._under_test
    assert {r.source for r in plugins.host().records.values()} == {"builtin"}


def test_builtins_load_under_test_and_foreign_entry_points_do_not(dist):
    eps = dist("kx-dist", "1.2.3", {"kx": algo_module("kxalgo")}, {"kx": "kx"})
    h = host(eps)
    assert {"katib_hyperopt", "katib_optuna"} <= set(h.records) and "kx" not in h.records
    assert set(h.registry("algorithms")) >= {"random", "grid"}


def test_foreign_entry_points_load_outside_tests_with_provenance(dist):
    eps = dist("kx-dist", "1.2.3", {"kx": algo_module("kxalgo")}, {"kx": "kx"})
    h = host(eps, under_test=False)
    reg = h.registry("algorithms")["kxalgo"]
    assert (reg.plugin, reg.source, reg.distribution, reg.version) == ("kx", "entry point", "kx-dist", "1.2.3")
    builtin = h.registry("algorithms")["random"]
    assert (builtin.plugin, builtin.source, builtin.distribution) == ("katib_hyperopt", "builtin", "katibsim")


def test_load_plugins_is_an_allowlist_and_works_under_test(dist):
    eps = dist("kx-dist", "1.2.3", {"kx": algo_module("kxalgo")}, {"kx": "kx"})
    assert set(host(eps, KATIBSIM_LOAD_PLUGINS="kx").registry("algorithms")) == {"kxalgo"}
    assert set(host(eps, KATIBSIM_LOAD_PLUGINS=" kx , katib_hyperopt ").registry("algorithms")) == {"kxalgo", "random", "tpe"}
    assert set(host(eps, KATIBSIM_LOAD_PLUGINS="kx-dist").registry("algorithms")) == {"kxalgo"}


@pytest.mark.parametrize("deny", ["katib_optuna", "katibsim_plugins.katib_optuna.plugin", "katib_optuna,kx", "kx-dist,katib_optuna"])
def test_disable_plugins(dist, deny):
    eps = dist("kx-dist", "1.2.3", {"kx": algo_module("kxalgo")}, {"kx": "kx"})
    h = host(eps, under_test=False, KATIBSIM_DISABLE_PLUGINS=deny)
    algos = set(h.registry("algorithms"))
    assert "grid" not in algos and "random" in algos
    assert ("kxalgo" in algos) == ("kx" not in deny.replace("katib_optuna", ""))
    assert "katib_optuna" in h.disabled


def test_a_plugin_that_fails_to_import_is_recorded_and_the_host_goes_on(dist):
    eps = dist("broken-dist", "0.1", {"broken": "raise ImportError('needs torch')\n"}, {"broken": "broken"})
    eps += dist("gone-dist", "0.2", {}, {"gone": "no_such_module_xyz"})
    h = host(eps, under_test=False, )
    errors = {e.name: e for e in h.load_errors()}
    assert "ImportError: needs torch" in errors["broken"].error
    assert (errors["broken"].distribution, errors["broken"].version) == ("broken-dist", "0.1")
    assert "ModuleNotFoundError" in errors["gone"].error
    assert {"random", "grid"} <= set(h.registry("algorithms"))


def test_a_broken_builtin_is_recorded_too():
    h = PluginHost({}, under_test=True, entry_points=OWN, default_plugins=("katibsim_plugins.no_such_plugin",))
    (err,) = [e for e in h.load_errors() if e.name == "no_such_plugin"]
    assert err.source == "builtin" and "cannot import katibsim_plugins.no_such_plugin" in err.error
    assert {"random", "grid"} <= set(h.registry("algorithms"))


def test_duplicate_algorithm_names_both_plugins(dist):
    eps = dist("kx-dist", "1.2.3", {"kx": algo_module("random")}, {"kx": "kx"})
    h = host(eps, under_test=False)
    with pytest.raises(PluginError) as info:
        h.registry("algorithms")
    msg = str(info.value)
    assert "algorithm 'random' is registered by two plugins" in msg
    assert "katib_hyperopt (built-in, katibsim_plugins.katib_hyperopt.plugin)" in msg
    assert "kx (entry point of kx-dist 1.2.3)" in msg
    assert "KATIBSIM_DISABLE_PLUGINS" in msg
    # Listing still works and shows the problem.
    assert any("registered by two plugins" in e.error for e in h.load_errors())


def test_duplicate_within_one_plugin(dist):
    eps = dist("kx-dist", "1", {"kx": algo_module("twice", body="    register({cls})\n    register({cls})")}, {"kx": "kx"})
    with pytest.raises(PluginError, match="algorithm 'twice' is registered twice by plugin kx"):
        host(eps, under_test=False).registry("algorithms")


def test_a_hook_that_raises_is_recorded(dist):
    eps = dist("kx-dist", "1", {"kx": algo_module("x", body="    raise RuntimeError('oops')")}, {"kx": "kx"})
    h = host(eps, under_test=False)
    assert {"random", "grid"} <= set(h.registry("algorithms"))
    assert any(e.name == "kx" and "katibsim_register_algorithms raised RuntimeError: oops" in e.error for e in h.load_errors())


def test_registering_something_else_than_an_algorithm(dist):
    eps = dist("kx-dist", "1", {"kx": algo_module("x", body="    register(int)")}, {"kx": "kx"})
    h = host(eps, under_test=False)
    assert "x" not in h.registry("algorithms")
    assert any("expected a subclass of katibsim.algorithm.Algorithm" in e.error for e in h.load_errors())


def test_unknown_hook_is_refused_with_a_hint(dist):
    code = """
    from katibsim.hookspecs import hookimpl

    @hookimpl
    def katibsim_register_algorithm(register):
        pass
    """
    eps = dist("kx-dist", "1", {"kx": code}, {"kx": "kx"})
    h = host(eps, under_test=False)
    assert "kx" not in h.records and h.pm.get_plugin("kx") is None
    assert any("implements unknown hook(s) katibsim_register_algorithm" in e.error for e in h.load_errors())


def test_wrong_hook_arguments_are_refused(dist):
    code = """
    from katibsim.hookspecs import hookimpl

    @hookimpl
    def katibsim_register_algorithms(register, experiment):
        pass
    """
    eps = dist("kx-dist", "1", {"kx": code}, {"kx": "kx"})
    h = host(eps, under_test=False)
    assert any(e.name == "kx" and "cannot register" in e.error for e in h.load_errors())


def test_plugin_name_clash_with_a_builtin(dist):
    eps = dist("kx-dist", "1", {"kx": algo_module("kxalgo")}, {"katib_hyperopt": "kx"})
    h = host(eps, under_test=False)
    assert "kxalgo" not in h.registry("algorithms")
    assert any("plugin name katib_hyperopt is already used by katib_hyperopt (built-in" in e.error for e in h.load_errors())


def test_entry_point_to_an_object(dist):
    code = """
    from katibsim.hookspecs import hookimpl

    class Plugin:
        @staticmethod
        @hookimpl
        def katibsim_register_objectives(register):
            register("const", lambda value=1.0: value, "a constant")
    """
    eps = dist("kx-dist", "1", {"kx": code}, {"kx": "kx:Plugin"})
    entry = host(eps, under_test=False).registry("objectives")["const"].obj
    assert (entry.name, entry.description, entry.plugin) == ("const", "a constant", "kx")


def test_tracing_goes_to_stderr(capsys):
    h = host(KATIBSIM_TRACE_PLUGINS="1")
    h.registry("algorithms")
    err = capsys.readouterr().err
    assert "katibsim: call katibsim_register_algorithms [" in err and "katib_hyperopt" in err
    assert "katibsim: katib_hyperopt registered algorithm random" in err
    h2 = host(KATIBSIM_TRACE_PLUGINS="0")
    h2.registry("algorithms")
    assert capsys.readouterr().err == ""


def test_registries_follow_runtime_registration():
    from katibsim.hookspecs import hookimpl

    h = host()
    before = h.registry("backends")

    class Backend:
        @staticmethod
        @hookimpl
        def katibsim_register_backends(register):
            register("fake", lambda **kw: object(), "a test backend")

    h.pm.register(Backend, name="fake-backend")
    assert set(h.registry("backends")) == set(before) | {"fake"}
    assert h.registry("backends")["fake"].source == "runtime"
    h.pm.unregister(name="fake-backend")
    assert set(h.registry("backends")) == set(before)


def test_builtins_load_from_the_tuple_even_without_their_entry_points():
    h = PluginHost({}, under_test=True, entry_points=[])
    assert {"katib_hyperopt", "katib_optuna"} <= set(h.records)
    assert {"random", "grid"} <= set(h.registry("algorithms"))
    assert len(set(h.records)) == len(h.records)  # e.g. bayesianoptimization.plugin and objectives.plugin differ
    assert not [e for e in h.load_errors() if "already used" in e.error]
