"""The built-in ``kind`` backend: trials as Jobs/TFJobs on a Kubernetes cluster (``katibsim.backends.kind``).

Registered as any backend plugin is; the ``kubernetes`` client it needs is imported only when a
run opens the backend, so katibsim without the ``kind`` extra still lists it and says what to
install. The factory takes the options callers give real backends (``timeout`` becomes the
per-trial deadline; ``out_dir``, ``resume`` and ``progress`` are accepted, and a non-empty
``mapping`` — local paths for images — is refused: a cluster runs the images themselves).
"""

from __future__ import annotations

from katibsim.hookspecs import hookimpl


def _factory(*args, out_dir=None, mapping=None, timeout=None, resume=False, progress=None, **kwargs):
    from katibsim.backends.kind import KindBackend
    from katibsim.errors import InputError

    if mapping:
        raise InputError("the kind backend runs the trial images on the cluster; --map / backend.map are for local")
    if timeout is not None:
        kwargs.setdefault("trial_timeout", float(timeout))
    return KindBackend(*args, **kwargs)


@hookimpl
def katibsim_register_backends(register):
    register("kind", _factory, "trials as Jobs/TFJobs on a kind (or any Kubernetes) cluster; needs katibsim[kind]")
