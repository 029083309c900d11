"""What goes wrong between katibsim and a cluster, each error saying what to do about it.

Every class is a :class:`~katibsim.errors.KatibsimError` (exit 2: a usage or environment problem,
not an invalid experiment), so the CLI prints one clear line and no traceback.
"""

from __future__ import annotations

from katibsim.errors import KatibsimError

# How to install what a trial kind needs (docs/kind.md#training-operator, #katib-install).
TRAINING_OPERATOR_INSTALL = (
    'kubectl apply --server-side -k "github.com/kubeflow/trainer.git/manifests/overlays/standalone?ref=v1.9.4" '
    "(or `katibsim kind up`)"
)
KATIB_INSTALL = (
    'kubectl apply --server-side -k "github.com/kubeflow/katib.git/manifests/v1beta1/installs/katib-standalone?ref=v0.19.0" '
    "(or `katibsim kind up --katib`)"
)
_INSTALL_BY_GROUP = {
    "kubeflow.org/v1": TRAINING_OPERATOR_INSTALL,
    "kubeflow.org/v1beta1": KATIB_INSTALL,
    "trainer.kubeflow.org/v1alpha1": "the Kubeflow Trainer v2 (see its installation guide)",
    "argoproj.io/v1alpha1": "Argo Workflows (see its installation guide)",
    "tekton.dev/v1beta1": "Tekton Pipelines (see its installation guide)",
}


class KubeError(KatibsimError):
    """Base of the cluster errors."""

    exit_code = 2


class KubeConfigError(KubeError):
    """No kubeconfig, or no such context in it."""


class ApiUnreachable(KubeError):
    """The API server did not answer (connection refused, DNS, TLS, timeout)."""

    def __init__(self, server: str, why: str, context: str | None = None):
        self.server = server
        self.why = why
        ctx = f" (context {context})" if context else ""
        super().__init__(
            f"the Kubernetes API server at {server}{ctx} is unreachable: {why}; is the cluster running? "
            "`kind get clusters` lists kind clusters, `katibsim kind up` creates katibsim's"
        )


class CrdMissing(KubeError):
    """The API server does not serve a trial's (or Katib's) kind: its CRD is not installed."""

    def __init__(self, api_version: str, kind: str, plural: str | None = None, detail: str = ""):
        self.api_version = api_version
        self.kind = kind
        group = api_version.split("/")[0] if "/" in api_version else ""
        crd = f"{plural}.{group}" if plural and group else f"the CRD of {kind}"
        how = _INSTALL_BY_GROUP.get(api_version, "the operator that defines it")
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"the cluster does not serve {kind} ({api_version}): CRD {crd} is not installed{extra}; install {how}"
        )


class Forbidden(KubeError):
    """403: the credentials lack an RBAC rule; the message names the rule to add."""

    def __init__(self, verb: str, resource: str, group: str, namespace: str | None, message: str = ""):
        self.verb, self.resource, self.group, self.namespace = verb, resource, group, namespace
        where = f" in namespace {namespace}" if namespace else " (cluster scope)"
        rule = f'apiGroups: ["{group}"], resources: ["{resource}"], verbs: ["{verb}"]'
        said = f" The API server said: {message}" if message else ""
        super().__init__(
            f"forbidden: cannot {verb} {resource}{where}; the user needs an RBAC rule {{{rule}}}{where} "
            f"(a Role and RoleBinding, or a ClusterRole).{said}"
        )


class ImagePullError(KubeError):
    """A trial's pod cannot pull its image (ErrImagePull, ImagePullBackOff, InvalidImageName...)."""

    def __init__(self, trial: str, pod: str, container: str, image: str, reason: str, message: str = ""):
        self.trial, self.pod, self.container, self.image, self.reason = trial, pod, container, image, reason
        said = f": {message}" if message else ""
        hint = ""
        if image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            hint = (" An image tagged :latest (or with no tag) is always pulled, so a copy loaded with "
                    "`kind load docker-image` is not used: give it another tag or set imagePullPolicy: IfNotPresent.")
        super().__init__(
            f"trial {trial}: pod {pod} cannot pull image {image!r} for container {container} ({reason}{said}). "
            f"On kind, build it locally and load it: `kind load docker-image {image} --name katibsim`.{hint}"
        )


class NamespaceMissing(KubeError):
    def __init__(self, namespace: str):
        self.namespace = namespace
        super().__init__(
            f"namespace {namespace} does not exist on the cluster; create it (`kubectl create namespace {namespace}`) "
            "or run the experiment in another namespace"
        )


class AlreadyExists(KubeError):
    """409 on create for an object katibsim did not create."""


class ApiError(KubeError):
    """Any other API answer katibsim cannot go on with (after retries for transient ones)."""

    def __init__(self, status: int, verb: str, what: str, reason: str = "", message: str = ""):
        self.status = status
        self.verb = verb
        detail = ": ".join(x for x in (reason, message) if x)
        super().__init__(f"{verb} {what} failed with HTTP {status}" + (f" ({detail})" if detail else ""))


class ApiTimeout(KubeError):
    """The API server answered too slowly for the call's deadline."""

    def __init__(self, verb: str, what: str, seconds: float, why: str = ""):
        self.verb = verb
        super().__init__(
            f"{verb} {what}: no answer from the API server within {seconds:g} s"
            + (f" ({why})" if why else "")
            + "; the cluster may be overloaded or the connection stalled"
        )


class ClientMissing(KubeError):
    def __init__(self) -> None:
        super().__init__(
            "the kind backend needs the Kubernetes client: pip install 'katibsim[kind]' (kubernetes>=36.0.1,<38)"
        )


__all__ = [
    "KubeError", "KubeConfigError", "ApiUnreachable", "CrdMissing", "Forbidden", "ImagePullError",
    "NamespaceMissing", "AlreadyExists", "ApiError", "ApiTimeout", "ClientMissing",
    "TRAINING_OPERATOR_INSTALL", "KATIB_INSTALL",
]
