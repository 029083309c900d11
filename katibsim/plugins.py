"""The plugin host: one pluggy manager, built once at import, and the registries it fills.

Built-in plugins (``DEFAULT_PLUGINS``, and every entry point katibsim's own distribution declares)
load exactly like third-party ones: a module with ``@hookimpl`` functions. Third-party plugins are
entry points of group ``katibsim``. Environment:

- ``KATIBSIM_DISABLE_PLUGINS=a,b``: do not load these (plugin name, entry-point name, module or
  distribution);
- ``KATIBSIM_LOAD_PLUGINS=a,b``: load only these (built-ins included), even under pytest;
- ``KATIBSIM_TRACE_PLUGINS=1``: write every hook call and registration to stderr.

While pytest runs (the ``katibsim`` pytest plugin sets ``sys._katibsim_called_from_test``),
foreign entry points are not loaded, so the test suite does not depend on what happens to be
installed (datasette's rule); katibsim's own plugins still load.

A plugin that fails to import or to register is recorded (:func:`load_errors`) and the host goes
on. Registering a name twice raises :class:`PluginError` naming both plugins. Building and
validating an experiment's algorithm is :mod:`katibsim.algorithm_factory`'s job.

Why one module of about 650 lines: datasette's layout, which the design follows — the manager is
built once, at import, and every registry kind, its register callback, its lookup and the listing
for ``katibsim plugins`` are views of that one manager; the file is the whole extension host.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Iterable, Mapping

import pluggy

from katibsim import __version__, hookspecs
from katibsim.algorithm import Algorithm
from katibsim.errors import FieldError, PluginError, SpecError

GROUP = "katibsim"
OWN_DISTRIBUTION = "katibsim"

# Built-in plugin modules, registered like third-party plugins. Later built-ins add their module
# here *and* declare it as an entry point in pyproject.toml (an entry point of the katibsim
# distribution alone is enough to load it; the tuple also covers an install whose entry points are stale).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "katibsim_plugins.katib_hyperopt.plugin",
    "katibsim_plugins.katib_optuna.plugin",
    "katibsim_plugins.katibsim_bo.plugin",
    "katibsim_plugins.katib_skopt.plugin",
    "katibsim_plugins.medianstop",
    "katibsim_plugins.sim_backend",
    "katibsim_plugins.local_backend",
    "katibsim_plugins.kind_backend",
    "katibsim_plugins.objectives.plugin",
    "katibsim_plugins.katib_goptuna.plugin",
    "katibsim_plugins.katib_hyperband",
    "katibsim_plugins.katib_pbt",
    "katibsim_plugins.katib_nas",
    "katibsim_plugins.from_trials.plugin",
)

# What each registration hook fills, by registry kind.
KINDS: dict[str, str] = {
    "algorithms": "katibsim_register_algorithms",
    "early_stopping": "katibsim_register_early_stopping",
    "objectives": "katibsim_register_objectives",
    "backends": "katibsim_register_backends",
    "report_sections": "katibsim_register_report_sections",
    "commands": "katibsim_register_commands",
}


# -- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginRecord:
    """One loaded plugin: its pluggy name, module, where it came from, and its distribution."""

    name: str
    module: str
    source: str  # "builtin" | "entry point" | "runtime"
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not be loaded or registered; the host went on without it."""

    name: str
    error: str
    source: str
    distribution: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Registration:
    """One registered name and who registered it."""

    kind: str
    name: str
    obj: Any
    plugin: str
    source: str
    distribution: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class ObjectiveEntry:
    name: str
    factory: Callable[..., Any]
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class BackendEntry:
    name: str
    factory: Callable[..., Any]
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class ReportSectionEntry:
    name: str
    build: Callable[..., Any]
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class CommandEntry:
    name: str
    configure: Callable[[Any], None]
    run: Callable[[Any], int]
    help: str = ""
    plugin: str = ""


class _Manager(pluggy.PluginManager):
    """A PluginManager that counts (un)registrations, so registries rebuild only when needed."""

    generation = 0

    def register(self, plugin, name=None):  # type: ignore[override]
        result = super().register(plugin, name)
        self.generation += 1
        return result

    def unregister(self, plugin=None, name=None):  # type: ignore[override]
        result = super().unregister(plugin, name)
        self.generation += 1
        return result


def _split(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _under_pytest() -> bool:
    return bool(getattr(sys, "_katibsim_called_from_test", False))


# -- the host ------------------------------------------------------------------------------------


class PluginHost:
    """A plugin manager plus the registries built from it. The module keeps one (``pm``);
    tests build their own with a chosen environment."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        under_test: bool | None = None,
        default_plugins: Iterable[str] = DEFAULT_PLUGINS,
        entry_points: Iterable[metadata.EntryPoint] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.pm = _Manager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.errors: list[LoadError] = []
        self.disabled: list[str] = []
        self._disable = _split(env.get("KATIBSIM_DISABLE_PLUGINS")) or set()
        self._load = _split(env.get("KATIBSIM_LOAD_PLUGINS"))
        self._under_test = _under_pytest() if under_test is None else under_test
        self._trace = env.get("KATIBSIM_TRACE_PLUGINS", "").strip().lower() not in ("", "0", "false", "no")
        self._cache: dict[str, tuple[int, dict[str, Registration], list[LoadError]]] = {}
        if self._trace:
            self.pm.add_hookcall_monitoring(self._trace_before, self._trace_after)
        eps = list(metadata.entry_points(group=GROUP) if entry_points is None else entry_points)
        self._load_builtins(tuple(default_plugins), eps)
        self._load_entry_points(eps)

    # -- loading ---------------------------------------------------------------------------------
    def _wanted(self, name: str, *aliases: str | None) -> bool:
        names_ = {n for n in (name, *aliases) if n}
        if names_ & self._disable:
            self.disabled.append(name)
            return False
        if self._load is not None and not (names_ & self._load):
            return False
        return True

    def _load_builtins(self, modules: tuple[str, ...], eps: list[metadata.EntryPoint]) -> None:
        # katibsim's own entry points count as built-ins (an entry point added to pyproject.toml
        # is enough), named by their entry-point name; DEFAULT_PLUGINS covers a stale install.
        own = {ep.value.split(":")[0]: ep for ep in eps if _dist_name(ep) == OWN_DISTRIBUTION}
        ordered = list(modules) + [m for m in own if m not in modules]
        for module in ordered:
            ep = own.get(module)
            name = ep.name if ep is not None else _short_name(module)
            if not self._wanted(name, module):
                continue
            record = PluginRecord(name, module, "builtin", OWN_DISTRIBUTION, __version__, ep.name if ep else None)
            try:
                obj = importlib.import_module(module)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the host down
                self._error(record, f"cannot import {module}: {type(exc).__name__}: {exc}")
                continue
            self._register(obj, record)

    def _load_entry_points(self, eps: list[metadata.EntryPoint]) -> None:
        for ep in eps:
            dist = _dist_name(ep)
            if dist == OWN_DISTRIBUTION:
                continue
            version = _dist_version(ep)
            if self._under_test and self._load is None:
                continue  # foreign entry points are not autoloaded while pytest runs
            if not self._wanted(ep.name, ep.value.split(":")[0], dist):
                continue
            record = PluginRecord(ep.name, ep.value, "entry point", dist, version, ep.name)
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001
                self._error(record, f"cannot load entry point {ep.name} = {ep.value}: {type(exc).__name__}: {exc}")
                continue
            self._register(obj, record)

    def _register(self, obj: Any, record: PluginRecord) -> None:
        if record.name in self.records:
            other = self.records[record.name]
            self._error(record, f"plugin name {record.name} is already used by {_describe(other)}")
            return
        try:
            self.pm.register(obj, name=record.name)
        except Exception as exc:  # noqa: BLE001 - pluggy validation, name clashes
            self._error(record, f"cannot register: {type(exc).__name__}: {exc}")
            return
        unknown = [
            impl.function.__name__
            for caller in self.pm.get_hookcallers(obj) or []
            for impl in caller.get_hookimpls()
            if impl.plugin is obj and caller.spec is None and not impl.optionalhook
        ]
        if unknown:
            self.pm.unregister(obj)
            self._error(record, "implements unknown hook(s) " + ", ".join(sorted(set(unknown))) + " (see docs/plugin-hooks.md)")
            return
        self.records[record.name] = record

    def _error(self, record: PluginRecord, message: str) -> None:
        self.errors.append(LoadError(record.name, message, record.source, record.distribution, record.version))

    # -- tracing ---------------------------------------------------------------------------------
    def _trace_before(self, hook_name, hook_impls, kwargs) -> None:
        who = ", ".join(impl.plugin_name for impl in hook_impls)
        sys.stderr.write(f"katibsim: call {hook_name} [{who}]\n")

    def _trace_after(self, outcome, hook_name, hook_impls, kwargs) -> None:
        exc = outcome.exception
        sys.stderr.write(f"katibsim: done {hook_name}" + (f" raised {exc!r}\n" if exc else "\n"))

    # -- registries ------------------------------------------------------------------------------
    def record_for(self, plugin_name: str) -> PluginRecord:
        rec = self.records.get(plugin_name)
        if rec is None:
            plugin = self.pm.get_plugin(plugin_name)
            module = getattr(plugin, "__name__", type(plugin).__name__)
            rec = PluginRecord(plugin_name, module, "runtime")
        return rec

    def collect(self, kind: str) -> tuple[dict[str, Registration], list[LoadError]]:
        """Every registration of ``kind`` (cached until a plugin is (un)registered), and the
        plugins whose hook failed. A duplicate name raises PluginError naming both plugins."""
        cached = self._cache.get(kind)
        if cached is not None and cached[0] == self.pm.generation:
            return cached[1], cached[2]
        hook_name = KINDS[kind]
        caller = getattr(self.pm.hook, hook_name)
        impls = caller.get_hookimpls()
        found: dict[str, Registration] = {}
        failures: list[LoadError] = []
        # Call each plugin on its own (through pluggy, so tracing sees it) to know who registers what.
        for impl in impls:  # registration order (pluggy calls them in reverse)
            rec = self.record_for(impl.plugin_name)
            others = [i.plugin for i in impls if i.plugin is not impl.plugin]
            one = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            pending: list[Registration] = []
            register = _REGISTER[kind](kind, rec, pending)
            try:
                one(register=register)
            except PluginError as exc:
                failures.append(LoadError(rec.name, str(exc), rec.source, rec.distribution, rec.version))
                continue
            except Exception as exc:  # noqa: BLE001
                failures.append(
                    LoadError(rec.name, f"{hook_name} raised {type(exc).__name__}: {exc}", rec.source, rec.distribution, rec.version)
                )
                continue
            for reg in pending:
                if reg.name in found:
                    first = found[reg.name]
                    if first.plugin == reg.plugin:
                        raise PluginError(f"{_KIND_WORD[kind]} {reg.name!r} is registered twice by plugin {_describe(rec)}")
                    raise PluginError(
                        f"{_KIND_WORD[kind]} {reg.name!r} is registered by two plugins: "
                        f"{_describe(self.record_for(first.plugin))} and {_describe(rec)}; "
                        f"disable one with KATIBSIM_DISABLE_PLUGINS"
                    )
                found[reg.name] = reg
                if self._trace:
                    sys.stderr.write(f"katibsim: {rec.name} registered {_KIND_WORD[kind]} {reg.name}\n")
        result = dict(sorted(found.items()))
        self._cache[kind] = (self.pm.generation, result, failures)
        return result, failures

    def registry(self, kind: str) -> dict[str, Registration]:
        return self.collect(kind)[0]

    def load_errors(self) -> list[LoadError]:
        errors = list(self.errors)
        for kind in KINDS:
            try:
                errors.extend(self.collect(kind)[1])
            except PluginError as exc:
                errors.append(LoadError("(registry)", str(exc), "host"))
        return errors


def _short_name(module: str) -> str:
    """A built-in's name when its entry point is not installed: katibsim_plugins.objectives.plugin -> objectives."""
    parts = module.split(".")
    if parts[0] == "katibsim_plugins" and len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "plugin":
        parts = parts[:-1]
    return ".".join(parts)


def _describe(rec: PluginRecord) -> str:
    if rec.source == "builtin":
        return f"{rec.name} (built-in, {rec.module})"
    if rec.source == "entry point":
        return f"{rec.name} (entry point of {rec.distribution} {rec.version})"
    return f"{rec.name} (registered at runtime, {rec.module})"


def _dist_name(ep: metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None and dist.metadata["Name"] else None


def _dist_version(ep: metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.version if dist is not None else None


# -- register callbacks, one per kind -------------------------------------------------------------

_KIND_WORD = {
    "algorithms": "algorithm",
    "early_stopping": "early-stopping algorithm",
    "objectives": "objective",
    "backends": "backend",
    "report_sections": "report section",
    "commands": "command",
}


def _reg(kind: str, rec: PluginRecord, name: str, obj: Any) -> Registration:
    return Registration(kind, name, obj, rec.name, rec.source, rec.distribution, rec.version)


def _check_name(kind: str, rec: PluginRecord, name: object) -> str:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise PluginError(f"plugin {rec.name} registered a {_KIND_WORD[kind]} with an invalid name {name!r}")
    return name


def _register_class(base: type | None):
    def factory(kind: str, rec: PluginRecord, out: list[Registration]):
        def register(cls: type, *, name: str | None = None) -> None:
            if not isinstance(cls, type) or (base is not None and not issubclass(cls, base)):
                want = f"a subclass of {base.__module__}.{base.__name__}" if base else "a class"
                raise PluginError(f"plugin {rec.name} registered {cls!r} as {_KIND_WORD[kind]}; expected {want}")
            out.append(_reg(kind, rec, _check_name(kind, rec, name or getattr(cls, "name", "")), cls))

        return register

    return factory


def _register_entry(entry_type: type, second: str):
    def factory(kind: str, rec: PluginRecord, out: list[Registration]):
        def register(name: str, fn: Callable[..., Any], description: str = "") -> None:
            _check_name(kind, rec, name)
            if not callable(fn):
                raise PluginError(f"plugin {rec.name} registered {_KIND_WORD[kind]} {name!r} with a {second} that is not callable")
            out.append(_reg(kind, rec, name, entry_type(name, fn, description, plugin=rec.name)))

        return register

    return factory


def _register_command(kind: str, rec: PluginRecord, out: list[Registration]):
    def register(name: str, configure: Callable[[Any], None], run: Callable[[Any], int], help: str = "") -> None:
        _check_name(kind, rec, name)
        if not callable(configure) or not callable(run):
            raise PluginError(f"plugin {rec.name} registered command {name!r} without callable configure/run")
        out.append(_reg(kind, rec, name, CommandEntry(name, configure, run, help, plugin=rec.name)))

    return register


_REGISTER: dict[str, Callable[..., Callable[..., None]]] = {
    "algorithms": _register_class(Algorithm),
    "early_stopping": _register_class(None),
    "objectives": _register_entry(ObjectiveEntry, "factory"),
    "backends": _register_entry(BackendEntry, "factory"),
    "report_sections": _register_entry(ReportSectionEntry, "build function"),
    "commands": _register_command,
}


# -- the module-level host -------------------------------------------------------------------------

_HOST = PluginHost()
pm: pluggy.PluginManager = _HOST.pm


def host() -> PluginHost:
    """The process-wide plugin host."""
    return _HOST


def load_errors() -> list[LoadError]:
    """Plugins that failed to import or register (the host went on without them)."""
    return _HOST.load_errors()


def algorithms() -> dict[str, type[Algorithm]]:
    """Registered suggestion algorithms by ``algorithmName``."""
    return {n: r.obj for n, r in _HOST.registry("algorithms").items()}


def early_stopping() -> dict[str, type]:
    """Registered early-stopping algorithms by ``spec.earlyStopping.algorithmName``."""
    return {n: r.obj for n, r in _HOST.registry("early_stopping").items()}


def objectives() -> dict[str, ObjectiveEntry]:
    return {n: r.obj for n, r in _HOST.registry("objectives").items()}


def backends() -> dict[str, BackendEntry]:
    return {n: r.obj for n, r in _HOST.registry("backends").items()}


def report_sections() -> dict[str, ReportSectionEntry]:
    return {n: r.obj for n, r in _HOST.registry("report_sections").items()}


def commands() -> dict[str, CommandEntry]:
    """Plugin CLI subcommands. Never raises (the CLI builds its parser from this before it can
    report errors): a command clashing with a built-in one, or a registry error, is left out
    and shows in :func:`load_errors`."""
    try:
        found = _HOST.registry("commands")
    except PluginError:
        return {}
    from katibsim.commands import BUILTIN_COMMANDS

    return {n: r.obj for n, r in found.items() if n not in BUILTIN_COMMANDS}


def registration(kind: str, name: str) -> Registration | None:
    """Who registered ``name`` in registry ``kind`` (plugin, source, distribution, version)."""
    return _HOST.registry(kind).get(name)


def owner_of(obj: Any) -> str | None:
    """The plugin that registered ``obj`` (a class or entry), for error messages."""
    for kind in KINDS:
        try:
            regs = _HOST.registry(kind)
        except PluginError:
            continue
        for reg in regs.values():
            if reg.obj is obj:
                return reg.plugin
    return None


# -- lookups ----------------------------------------------------------------------------------------


def _known(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "(none: no plugin registers any)"


def get_algorithm(name: str, *, file: str | None = None) -> type[Algorithm]:
    """The algorithm class for ``spec.algorithm.algorithmName``; unknown names list the known ones."""
    found = algorithms()
    if name in found:
        return found[name]
    raise SpecError(unknown_algorithm(name, found, file))


def unknown_algorithm(name: str, found: Mapping[str, Any], file: str | None) -> FieldError:
    # Katib's wording (docs/katib-behaviour.md §2.2 item 9), then what would have worked.
    return FieldError(
        "spec.algorithm.algorithmName",
        f"unable to get Suggestion config data for algorithm {name}: no plugin provides algorithm {name}; "
        f"known algorithms: {_known(found)}",
        file,
        name,
        kind="not-supported",
    )


def get_early_stopping(name: str, *, file: str | None = None) -> type:
    found = early_stopping()
    if name in found:
        return found[name]
    raise SpecError(unknown_early_stopping(name, found, file))


def unknown_early_stopping(name: str, found: Mapping[str, Any], file: str | None) -> FieldError:
    return FieldError(
        "spec.earlyStopping.algorithmName",
        f"unable to get EarlyStopping config data for algorithm {name}: no plugin provides early-stopping "
        f"algorithm {name}; known early-stopping algorithms: {_known(found)}",
        file,
        name,
        kind="not-supported",
    )


def get_objective(name: str, **options: Any):
    """Build the objective ``name`` with ``options``; an unknown name or option lists the known ones."""
    found = objectives()
    if name not in found:
        raise SpecError(FieldError("objective", f"unknown objective {name}; known objectives: {_known(found)}", value=name, kind="not-supported"))
    entry = found[name]
    _bind(entry.factory, options, f"objective {name}")
    obj = entry.factory(**options)
    from katibsim.objective import Objective

    if not isinstance(obj, Objective):
        raise PluginError(f"plugin {entry.plugin}: objective {name} factory returned {type(obj).__name__}, not an Objective")
    return obj


def get_backend(name: str) -> BackendEntry:
    found = backends()
    if name not in found:
        raise SpecError(FieldError("backend", f"unknown backend {name}; known backends: {_known(found)}", value=name, kind="not-supported"))
    return found[name]


def _bind(fn: Callable[..., Any], options: Mapping[str, Any], what: str) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(**options)
    except TypeError as exc:
        accepted = [p.name for p in sig.parameters.values() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        raise SpecError(FieldError("objective.options", f"{what}: {exc}; accepted options: {_known(accepted)}")) from None


# -- listing ------------------------------------------------------------------------------------------


def algorithm_info(cls: type[Algorithm]) -> dict[str, Any]:
    return {
        "name": cls.name,
        "description": cls.description or (inspect.getdoc(cls) or "").split("\n")[0],
        "capabilities": cls.capabilities.to_dict(),
        "settings": [
            {"name": s.name, "default": s.default, "description": s.description, "katib": s.katib}
            for s in cls.settings_spec
        ],
    }


def plugin_info() -> list[dict[str, Any]]:
    """Every loaded plugin (name, version, source, hooks, what it registers, algorithms in
    detail) and every plugin that failed to load, for ``katibsim plugins``."""
    out: list[dict[str, Any]] = []
    regs: dict[str, dict[str, list[Registration]]] = {}
    problems: list[str] = []
    for kind in KINDS:
        try:
            for reg in _HOST.registry(kind).values():
                regs.setdefault(reg.plugin, {}).setdefault(kind, []).append(reg)
        except PluginError as exc:
            problems.append(str(exc))
    for name, plugin in _HOST.pm.list_name_plugin():
        rec = _HOST.record_for(name)
        mine = regs.get(name, {})
        hooks = sorted(c.name for c in (_HOST.pm.get_hookcallers(plugin) or []))
        out.append(
            {
                "name": rec.name,
                "version": rec.version,
                "distribution": rec.distribution,
                "source": rec.source,
                "module": rec.module,
                "hooks": hooks,
                "registers": {kind: [r.name for r in mine.get(kind, [])] for kind in KINDS if mine.get(kind)},
                "algorithms": [algorithm_info(r.obj) for r in mine.get("algorithms", [])],
                "error": None,
            }
        )
    for err in _HOST.load_errors():
        out.append(
            {
                "name": err.name,
                "version": err.version,
                "distribution": err.distribution,
                "source": err.source,
                "module": None,
                "hooks": [],
                "registers": {},
                "algorithms": [],
                "error": err.error,
            }
        )
    out.sort(key=lambda d: (d["error"] is not None, d["source"] != "builtin", d["name"]))
    return out
