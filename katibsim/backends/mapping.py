"""From a trial's primary container to a command line that runs on this machine (the local backend).

A trial's container cannot run here as written: its image is not available and its command names
paths inside the image. The user maps them, one ``KEY=VALUE`` per entry, from three places (later
ones win for the same key): built-in defaults (``python`` and ``python3`` → this interpreter), the
Experiment's annotation ``katibsim.io/local-map`` (one entry per line, ``#`` comments; relative
values are relative to the Experiment file's folder), and ``--map`` on the command line (relative
to the current directory) or a scenario's ``backend.map``:

- ``/ABSOLUTE/PATH=LOCAL_PATH`` — the path and every path under it, wherever it appears on the
  command line (``/data``, ``--data=/data/x``, inside an ``sh -c`` script); ``LOCAL_PATH`` may be
  ``@trial``: the same path inside the trial's own directory (for outputs);
- ``IMAGE=COMMAND ...`` — the image's entrypoint, used when the container gives no ``command``
  (Kubernetes then runs the image's entrypoint followed by ``args``);
- ``NAME=COMMAND ...`` — a command name at the start of the command line.

The collector's folder (``fileSystemPath``: a File collector's directory, a TensorFlowEvent
directory; Katib mounts an emptyDir there, ``docs/katib-behaviour.md`` §6.1) goes into the trial's directory unless
mapped. Kubernetes' ``$(VAR)`` references are expanded from the container's ``env``, which also
gets Katib's ``KATIB_TRIAL_NAME`` (§6.1). An absolute path that is not mapped and does not exist
here (nor its parent folder, other than ``/``) is an error, reported for every place at once, with
the ``--map`` that fixes it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from katibsim.backends.process import inside
from katibsim.errors import InputError

ANNOTATION = "katibsim.io/local-map"
TRIAL_DIR = "@trial"
TRIAL_NAME_ENV = "KATIB_TRIAL_NAME"
COLLECTOR_PATH_FIELD = "spec.metricsCollectorSpec.source.fileSystemPath.path"

# An absolute path inside a command-line word: at its start, or after '=', ',', a quote or a space
# (``--log_dir=/train``, ``sh -c "python /opt/x.py"``); it ends at a space, quote, ',', ';' or '='.
_ABSOLUTE = re.compile(r"""(?:^|(?<=[\s=,'"]))(/[^\s'",;=]*)""")


@dataclass(frozen=True)
class MapEntry:
    """One ``KEY=VALUE`` mapping, where it came from, and the folder its relative paths start from."""

    key: str
    value: str
    origin: str
    base: str

    @property
    def is_path(self) -> bool:
        return self.key.startswith("/")

    def describe(self) -> str:
        return f"{self.key}={self.value}"


def parse_entries(items: Iterable[str], *, origin: str, base: str | Path) -> tuple[MapEntry, ...]:
    """``KEY=VALUE`` strings (blank lines and ``#`` comments skipped) → entries; InputError on a bad one."""
    out: list[MapEntry] = []
    for raw in items:
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"{origin}: {raw.strip()!r} is not a mapping; expected IMAGE=COMMAND, /PATH=LOCAL_PATH "
                             "or NAME=COMMAND")
        if key.startswith("/"):
            key = _norm_path(key)
        out.append(MapEntry(key, value, origin, str(base)))
    return tuple(out)


def _norm_path(p: str) -> str:
    p = re.sub("/+", "/", p)
    return p.rstrip("/") or "/"


def annotation_entries(experiment: Any) -> tuple[MapEntry, ...]:
    """The entries of the Experiment's ``katibsim.io/local-map`` annotation (relative to its file)."""
    meta = getattr(experiment, "metadata", None) or {}
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    text = annotations.get(ANNOTATION) if isinstance(annotations, Mapping) else None
    if text is None:
        return ()
    if not isinstance(text, str):
        raise InputError(f"metadata.annotations[{ANNOTATION}] must be a string (one IMAGE_OR_PATH=LOCAL per line)")
    src = getattr(experiment, "source_file", None)
    base = Path(src).resolve().parent if src else Path.cwd()
    return parse_entries(text.splitlines(), origin=f"annotation {ANNOTATION}", base=base)


def default_entries() -> tuple[MapEntry, ...]:
    """``python`` and ``python3`` run with the interpreter katibsim runs in (its packages are there)."""
    exe = sys.executable
    return tuple(MapEntry(name, exe, "default", str(Path.cwd())) for name in ("python", "python3"))


def _image_repository(image: str) -> str:
    """``registry/name:tag@digest`` → ``registry/name`` (a ':' after the last '/' starts the tag)."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


@dataclass(frozen=True)
class LocalMap:
    """Every mapping in force; later entries win for the same key."""

    entries: tuple[MapEntry, ...] = ()

    @classmethod
    def build(cls, experiment: Any = None, cli: Sequence[str] | Sequence[MapEntry] = (),
              *, cli_origin: str = "--map", base: str | Path | None = None) -> "LocalMap":
        """Defaults, then the Experiment's annotation, then ``cli`` (strings relative to ``base``,
        the current directory by default)."""
        entries = list(default_entries())
        if experiment is not None:
            entries += annotation_entries(experiment)
        for item in cli:
            if isinstance(item, MapEntry):
                entries.append(item)
            else:
                entries += parse_entries([item], origin=cli_origin, base=base or Path.cwd())
        return cls(tuple(entries))

    def _last(self, pred) -> MapEntry | None:
        for e in reversed(self.entries):
            if pred(e):
                return e
        return None

    def path(self, path: str) -> tuple[MapEntry, str] | None:
        """The entry mapping ``path`` (the longest key that is the path or a folder above it) and the rest."""
        best: tuple[MapEntry, str] | None = None
        for e in self.entries:
            if not e.is_path:
                continue
            key = e.key
            if path == key or key == "/" or path.startswith(key + "/"):
                rest = path[len(key):] if key != "/" else path
                if best is None or len(key) >= len(best[0].key):
                    best = (e, rest)
        return best

    def command(self, name: str) -> MapEntry | None:
        return self._last(lambda e: not e.is_path and e.key == name)

    def image(self, image: str) -> MapEntry | None:
        exact = self._last(lambda e: not e.is_path and e.key == image)
        if exact is not None:
            return exact
        repo = _image_repository(image)
        return self._last(lambda e: not e.is_path and ":" not in e.key.rsplit("/", 1)[-1] and "@" not in e.key
                          and e.key == repo)

    def user_entries(self) -> tuple[MapEntry, ...]:
        return tuple(e for e in self.entries if e.origin != "default")

    def describe(self) -> str:
        shown = [e.describe() for e in self.user_entries()]
        return "; ".join(shown) if shown else "(no mapping)"


# -- the plan of one trial's process -----------------------------------------------------------------


@dataclass(frozen=True)
class Substitution:
    """A word of the command line that was changed, and why."""

    where: str
    original: str
    local: str
    why: str


@dataclass(frozen=True)
class CommandPlan:
    """What the local backend runs for one trial.

    ``env`` holds the variables added to katibsim's own environment (the container's literal
    ``env`` and ``KATIB_TRIAL_NAME``); ``collector_path`` is where the collector reads (a File
    collector's file, a TensorFlowEvent directory; None for StdOut); ``make_dirs`` the folders
    Katib would have mounted (its emptyDir) and that must exist before the process starts.
    """

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str
    collector_path: str | None = None
    make_dirs: tuple[str, ...] = ()
    substitutions: tuple[Substitution, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "cwd": self.cwd,
            "env": dict(self.env),
            "collector_path": self.collector_path,
            "substitutions": [{"where": s.where, "original": s.original, "local": s.local, "why": s.why}
                              for s in self.substitutions],
            "notes": list(self.notes),
        }


class LocalMapError(InputError):
    """The trial's command cannot run here: every problem, each with the mapping that fixes it."""

    def __init__(self, header: str, problems: Sequence[str]):
        self.header = header
        self.problems = tuple(problems)
        super().__init__(header + "\n" + "\n".join(f"  {p}" for p in self.problems))


def expand_k8s(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion in command and args: defined variables are replaced,
    ``$$`` is a literal ``$``, unknown references stay as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if text.startswith("$(", i):
            j = text.find(")", i + 2)
            if j != -1 and text[i + 2:j] in env:
                out.append(env[text[i + 2:j]])
                i = j + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _resolve_value(value: str, base: str) -> str:
    """A mapped local path: ``~`` expanded, relative paths from the entry's folder, made absolute."""
    p = Path(os.path.expanduser(value))
    if not p.is_absolute():
        p = Path(base) / p
    return os.path.normpath(str(p))


def _command_words(entry: MapEntry) -> list[str]:
    """A command mapping's words; words naming a file relative to the entry's folder are resolved."""
    try:
        words = shlex.split(entry.value)
    except ValueError as exc:
        raise InputError(f"{entry.origin}: cannot split {entry.value!r} into words: {exc}") from None
    out = []
    for w in words:
        if "/" in w and not w.startswith("/") and not w.startswith("-"):
            out.append(_resolve_value(w, entry.base))
        elif w.startswith("~"):
            out.append(os.path.expanduser(w))
        else:
            out.append(w)
    return out


def _exists_or_parent(p: str) -> bool:
    if os.path.exists(p):
        return True
    parent = os.path.dirname(p.rstrip("/"))
    return parent not in ("", "/") and os.path.isdir(parent)


def _quote(s: str) -> str:
    return shlex.quote(s)


def collector_mount(collector: Any) -> str | None:
    """The folder Katib mounts for the collector (§6.1): a File collector's directory, a
    TensorFlowEvent directory; None for StdOut and the kinds with no path."""
    if collector is None or collector.kind not in ("File", "TensorFlowEvent"):
        return None
    fsp = collector.file_system_path
    if fsp is None or not fsp.path:
        return None
    path = _norm_path(fsp.path)
    if collector.kind == "File" and (fsp.kind or "File") == "File":
        return posix_dirname(path)
    return path


def posix_dirname(path: str) -> str:
    d = path.rsplit("/", 1)[0]
    return d or "/"


def plan_command(
    container: Mapping[str, Any],
    *,
    trial_name: str,
    trial_dir: str | Path,
    local_map: LocalMap,
    collector: Any = None,
    label: str = "",
) -> CommandPlan:
    """The local command for ``container`` (a rendered trial's primary container).

    Raises :class:`LocalMapError` listing every word that cannot be mapped. ``label`` names the
    container in messages (e.g. ``container "tensorflow" of the TFJob``).
    """
    trial_dir = str(Path(trial_dir))
    image = str(container.get("image") or "")
    cname = container.get("name") or "?"
    where_c = label or f"container {cname!r}"
    header = f"the trial's command cannot run on this machine ({where_c}" + (f", image {image}" if image else "") + "):"
    problems: list[str] = []
    notes: list[str] = []
    subs: list[Substitution] = []

    env: dict[str, str] = {}
    for i, item in enumerate(container.get("env") or ()):
        if not isinstance(item, Mapping) or not item.get("name"):
            continue
        if "value" in item:
            env[str(item["name"])] = expand_k8s(str(item.get("value") or ""), env)
        else:
            notes.append(f"env {item['name']} comes from valueFrom, which only a cluster can resolve; it is not set")
    env[TRIAL_NAME_ENV] = trial_name  # the pod webhook adds it to the primary container (§6.1)

    command = [str(x) for x in (container.get("command") or ())]
    args = [str(x) for x in (container.get("args") or ())]
    words: list[tuple[str, str]] = []
    if command:
        words += [(f"command[{i}]", expand_k8s(w, env)) for i, w in enumerate(command)]
        img = local_map.image(image) if image else None
        if img is not None:
            notes.append(f"the mapping of image {image} is not used: the container gives its own command")
    else:
        img = local_map.image(image) if image else None
        if img is None:
            problems.append(
                f"{where_c} has no command, so it would run the image's entrypoint, which cannot run here; map the "
                f"image to a local command: --map {_quote(image or 'IMAGE')}='COMMAND ...'"
            )
        else:
            words += [(f"image {image} ({img.origin})", w) for w in _command_words(img)]
    words += [(f"args[{i}]", expand_k8s(w, env)) for i, w in enumerate(args)]
    if not words:
        raise LocalMapError(header, problems or [f"{where_c} has neither command nor args"])

    mount = collector_mount(collector)

    def _contained(local: str, root: str, where: str, path: str, what: str) -> bool:
        """A path placed under ``root`` must stay there once '..' and symbolic links are resolved."""
        if inside(local, root):
            return True
        problems.append(
            f"{where}: {path} leaves {what}: it resolves to {os.path.realpath(local)}; katibsim refuses a mapped path "
            "that climbs out with '..' or a symbolic link (Katib resolves it inside the container)"
        )
        return False

    def local_path(path: str, where: str) -> str | None:
        norm = _norm_path(path) if path != "/" else path
        hit = local_map.path(norm)
        if hit is not None:
            entry, rest = hit
            if entry.value == TRIAL_DIR:
                local = os.path.join(trial_dir, norm.lstrip("/"))
                if not _contained(local, trial_dir, where, path, "the trial's directory"):
                    return None
            else:
                root = _resolve_value(entry.value, entry.base)
                local = root + rest
                if not _contained(local, root, where, path, f"the folder it is mapped to ({entry.describe()})"):
                    return None
                if not _exists_or_parent(local):
                    problems.append(f"{where}: {path} is mapped ({entry.origin}: {entry.describe()}) to {local}, "
                                    "which does not exist")
                    return None
            subs.append(Substitution(where, path, local, f"{entry.origin}: {entry.describe()}"))
            return local
        if mount is not None and (norm == mount or norm.startswith(mount.rstrip("/") + "/")):
            local = os.path.join(trial_dir, norm.lstrip("/"))
            if not _contained(local, trial_dir, where, path, "the trial's directory"):
                return None
            subs.append(Substitution(where, path, local, "the collector's folder, inside the trial's directory"))
            return local
        if _exists_or_parent(path):
            return path
        problems.append(
            f"{where}: {path} does not exist on this machine (a path inside the image?); map it: "
            f"--map {_quote(path + '=LOCAL_PATH')} (or ={TRIAL_DIR} for an output inside the trial's directory)"
        )
        return None

    def map_word(where: str, word: str) -> str:
        out, last = [], 0
        for m in _ABSOLUTE.finditer(word):
            path = m.group(1)
            if path.startswith("//"):
                continue
            local = local_path(path, where)
            out.append(word[last:m.start(1)])
            out.append(local if local is not None else path)
            last = m.end(1)
        out.append(word[last:])
        return "".join(out)

    # The executable: a name (mapped, else looked up on PATH) or a path (mapped or existing).
    entrypoint_missing = bool(problems)  # no command and an unmapped image: args alone are checked
    where0, first = words[0]
    rest_words = words if entrypoint_missing else words[1:]
    argv: list[str] = []
    if entrypoint_missing:
        pass
    elif "/" not in first:
        entry = local_map.command(first)
        if entry is not None:
            prefix = _command_words(entry)
            if prefix and prefix != [first]:
                subs.append(Substitution(where0, first, " ".join(prefix), f"{entry.origin}: {entry.describe()}"))
            argv += prefix
        else:
            argv.append(first)
    elif first.startswith("/"):
        mapped = local_path(first, where0)
        argv.append(mapped if mapped is not None else first)
    else:
        entry = local_map.command(first)
        if entry is not None:
            argv += _command_words(entry)
        else:
            problems.append(f"{where0}: the relative command {first!r} would start in the trial's own directory; "
                            f"map it: --map {_quote(first + '=LOCAL_COMMAND')}")
            argv.append(first)
    exe = argv[0] if argv else first
    if not problems:
        if "/" not in exe:
            found = shutil.which(exe, path=os.environ.get("PATH"))
            if found is None:
                problems.append(f"{where0}: command {exe!r} is not found on PATH; map it: --map {_quote(exe + '=LOCAL_COMMAND')}")
        elif not os.path.isfile(exe):
            problems.append(f"{where0}: {exe} is not a file")
        elif not os.access(exe, os.X_OK):
            problems.append(f"{where0}: {exe} is not executable; map the command instead, e.g. "
                            f"--map {_quote(first + '=python ' + exe)}")
    for where, w in rest_words:
        argv.append(map_word(where, w))
    if problems:
        raise LocalMapError(header, problems)

    dirs = []
    collector_path = None
    if mount is not None:
        hit = local_map.path(mount)
        if hit is not None and hit[0].value != TRIAL_DIR:
            root = _resolve_value(hit[0].value, hit[0].base)
            mount_local = root + hit[1]
            what = f"the folder it is mapped to ({hit[0].describe()})"
        else:
            root = trial_dir
            mount_local = os.path.join(trial_dir, mount.lstrip("/"))
            what = "the trial's directory"
        fsp = collector.file_system_path
        full = _norm_path(fsp.path)
        if full == mount:
            collector_path = mount_local
        else:
            collector_path = mount_local.rstrip("/") + full[len(mount.rstrip("/")):]
        for local in (mount_local, collector_path):
            if not inside(local, root):
                raise LocalMapError(
                    header,
                    [f"{COLLECTOR_PATH_FIELD}: {fsp.path} leaves {what}: it resolves to {os.path.realpath(local)}; "
                     "katibsim refuses a collector path that climbs out with '..' or a symbolic link (Katib would "
                     "resolve it inside the container)"],
                )
        dirs.append(mount_local)
    return CommandPlan(
        argv=tuple(argv),
        env=tuple(env.items()),
        cwd=trial_dir,
        collector_path=collector_path,
        make_dirs=tuple(dirs),
        substitutions=tuple(subs),
        notes=tuple(notes),
    )


__all__ = [
    "ANNOTATION", "TRIAL_DIR", "TRIAL_NAME_ENV", "MapEntry", "LocalMap", "CommandPlan", "Substitution",
    "LocalMapError", "parse_entries", "annotation_entries", "default_entries", "plan_command", "expand_k8s",
    "collector_mount",
]
