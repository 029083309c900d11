"""Where a surrogate comes from: a model file, or a trials file fitted on the spot (cached per process).

Any file ``katibsim.workload.readers.read_trials`` reads (Katib's Trial list, an Experiment with its
trials, katibsim's result files, a CSV or JSON table) is fitted; a JSON file whose ``format`` is
``katibsim-surrogate`` is loaded as it is. A fit is cached by the files' paths, sizes and
modification times, so the seeds of one comparison fit once.
"""

from __future__ import annotations

from pathlib import Path

from katibsim.errors import InputError

from .surrogate import DEFAULT_KIND, Surrogate, fit_table, is_model_file, load_model

_CACHE: dict[tuple, Surrogate] = {}


def _stamp(path: str | Path | None) -> tuple:
    if path is None:
        return (None,)
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return (str(p.resolve()), st.st_size, st.st_mtime_ns)


def read_table(path: str | Path, experiment: str | Path | None = None, metric: str | None = None,
               direction: str | None = None):
    from katibsim.workload.readers import read_trials  # the readers module (issue 15's reader side)

    return read_trials(path, experiment=experiment, metric=metric, direction=direction)


def surrogate_for(path: str | Path, *, experiment: str | Path | None = None, metric: str | None = None,
                  kind: str | None = None) -> Surrogate:
    """The surrogate of ``path`` (a model file, or trials fitted with ``kind``, default ``gp``)."""
    if is_model_file(path):
        if experiment is not None or metric is not None:
            raise InputError(f"{path}: a fitted model file; experiment= and metric= apply only to a trials file")
        model = load_model(path)
        if kind is not None and kind != model.kind:
            raise InputError(f"{path}: the model file holds a {model.kind} model, not {kind}")
        return model
    key = (_stamp(path), _stamp(experiment), metric, kind or DEFAULT_KIND)
    if key not in _CACHE:
        _CACHE[key] = fit_table(read_table(path, experiment, metric), kind or DEFAULT_KIND)
    return _CACHE[key]
