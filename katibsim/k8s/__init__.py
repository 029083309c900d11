"""katibsim's small port over the Kubernetes API, for the kind backend and the Katib mode.

Layers (``docs/kind.md#layers``; Katib facts: ``docs/katib-behaviour.md``); only
:mod:`katibsim.k8s.client` touches the network:

- :mod:`~katibsim.k8s.errors` — what goes wrong, in words a user can act on;
- :mod:`~katibsim.k8s.conditions` — Katib's GJSON success/failure conditions, evaluated (pure);
- :mod:`~katibsim.k8s.manifests` — a rendered trial made ready for the cluster (pure);
- :mod:`~katibsim.k8s.status` — Job/TFJob/Pod objects interpreted as trial states (pure);
- :mod:`~katibsim.k8s.port` — the port (create, get, delete, list, pod log, wait) and its value
  types, dictionaries in and out;
- :mod:`~katibsim.k8s.client` — its adapter over the official ``kubernetes`` client
  (``pip install 'katibsim[kind]'``);
- :mod:`~katibsim.k8s.katib_mode` — an Experiment submitted to a cluster running Katib itself.
"""
