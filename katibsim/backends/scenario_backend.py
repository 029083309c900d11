"""Real backends in scenarios: a variant's ``backend:`` field and one run of it for ``katibsim compare``.

A scenario variant may run for real instead of on the simulated clock::

    variants:
      - name: bo-simulated
        algorithm: bayesianoptimization
      - name: bo-real
        algorithm: bayesianoptimization
        backend:
          name: local
          map: ["/var/tf_mnist/mnist_with_summaries.py=../examples/trainers/mnist_with_summaries.py"]
          timeout: 600

``backend: local`` is short for ``{name: local}``; ``sim`` (the default) simulates. ``map``
entries are the ``--map`` of ``katibsim run`` (relative paths start at the scenario file's
folder) and add to the Experiment's own ``katibsim.io/local-map`` annotation; ``timeout`` is
seconds per trial. Each real run keeps its trials next to its result file
(``runs/<variant>/seed-<i>.trials/``), so a ``compare --resume`` after an interruption re-uses the
trials that had finished.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from katibsim.errors import FieldError, InputError

REAL_BACKENDS = ("local", "kind")
_KEYS = {"name", "map", "timeout"}
_KEY_FILE = "run-key.json"


@dataclass(frozen=True)
class BackendRef:
    """Where a variant's trials run: ``name`` and, for ``local``, its mapping and timeout."""

    name: str = "sim"
    map: tuple[str, ...] = ()
    timeout: float | None = None
    base: str | None = None  # the folder relative map entries start from

    @property
    def simulated(self) -> bool:
        return self.name == "sim"

    def to_dict(self) -> dict[str, Any]:
        """What decides a run's result (part of the run key); ``base`` makes relative maps absolute."""
        return {"name": self.name, "map": list(self.map), "timeout": self.timeout, "base": self.base}


def parse_backend(value: Any, path: str, *, base: str | Path | None = None) -> tuple[BackendRef | None, list[FieldError]]:
    """A variant's ``backend`` field: None when absent; the problems as field errors at ``path``."""
    if value is None:
        return None, []
    errors: list[FieldError] = []
    known = ("sim",) + REAL_BACKENDS
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        return None, [FieldError(path, f"must be a backend name ({', '.join(known)}) or {{name, map, timeout}}")]
    for k in value:
        if k not in _KEYS:
            errors.append(FieldError(f"{path}.{k}", f"unknown field; expected one of {', '.join(sorted(_KEYS))}",
                                     kind="not-supported"))
    name = value.get("name")
    if name not in known:
        errors.append(FieldError(f"{path}.name", f"must be one of {', '.join(known)}", value=name))
        name = "sim"
    raw_map = value.get("map") or []
    if isinstance(raw_map, Mapping):
        raw_map = [f"{k}={v}" for k, v in raw_map.items()]
    entries: list[str] = []
    if not isinstance(raw_map, list):
        errors.append(FieldError(f"{path}.map", "must be a list of IMAGE_OR_PATH=LOCAL entries (or a mapping)"))
    else:
        from katibsim.backends.mapping import parse_entries

        for i, item in enumerate(raw_map):
            try:
                parse_entries([str(item)], origin=f"{path}.map[{i}]", base=base or ".")
                entries.append(str(item))
            except InputError as exc:
                errors.append(FieldError(f"{path}.map[{i}]", str(exc), value=item))
    timeout = value.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        errors.append(FieldError(f"{path}.timeout", "must be a number of seconds > 0", value=timeout))
        timeout = None
    if name == "sim" and (entries or timeout is not None):
        errors.append(FieldError(path, "map and timeout are options of a real backend (local, kind), not of sim"))
    if name == "kind" and entries:
        errors.append(FieldError(f"{path}.map", "the kind backend runs the trial images on the cluster; map is for local"))
    return BackendRef(name, tuple(entries), None if timeout is None else float(timeout),
                      str(Path(base).resolve()) if base is not None else None), errors


def run_real(experiment, ref: BackendRef, *, seed: int, out_dir: str | Path, key: str = "", options=None):
    """One run of ``experiment`` on the real backend ``ref`` (a RunResult), its trials in ``out_dir``.

    Finished trials of an interrupted earlier attempt with the same ``key`` are re-used; a folder
    left by a different run (another key) is cleared first. An interrupted run raises InputError,
    so the runner stores no result for it.
    """
    from katibsim import plugins
    from katibsim.backends.execute import execute, wall_clock_start
    from katibsim.backends.mapping import parse_entries
    from katibsim.backends.records import write_json_atomic
    from katibsim.engine.options import SimulationOptions

    out = Path(out_dir)
    key_file = out / _KEY_FILE
    if out.exists():
        try:
            same = json.loads(key_file.read_text(encoding="utf-8")).get("key") == key
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(key_file, {"key": key})
    entries = []
    for i, item in enumerate(ref.map):
        entries += parse_entries([item], origin=f"backend.map[{i}]", base=ref.base or ".")
    backend = plugins.get_backend(ref.name).factory(out_dir=out, mapping=entries, timeout=ref.timeout, resume=True)
    opts = replace(options, start_time=wall_clock_start()) if options is not None else SimulationOptions(start_time=wall_clock_start())
    result = execute(experiment, backend, seed=seed, options=opts, output_dir=out)
    if backend.interrupted:
        raise InputError(f"{backend.interrupted}; run the comparison again with --resume to continue")
    return result


__all__ = ["BackendRef", "REAL_BACKENDS", "parse_backend", "run_real"]
