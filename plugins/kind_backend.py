"""The built-in ``kind`` backend: trials as Jobs/TFJobs on a Kubernetes cluster (``katibsim.backends.kind``).

Registered as any backend plugin is; the ``kubernetes`` client it needs is imported only when a
run opens the backend, so katibsim without the ``kind`` extra still lists it and says what to
install.
"""

from __future__ import annotations

from katibsim.hookspecs import hookimpl


def _factory(*args, **kwargs):
    from katibsim.backends.kind import KindBackend

    return KindBackend(*args, **kwargs)


@hookimpl
def katibsim_register_backends(register):
    register("kind", _factory, "trials as Jobs/TFJobs on a kind (or any Kubernetes) cluster; needs katibsim[kind]")
