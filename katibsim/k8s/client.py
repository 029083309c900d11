"""The adapter of the Kubernetes port over the official client: create, get, delete, list, pod log, wait.

:class:`KubeClient` implements the port :class:`~katibsim.k8s.port.Kube` over the official
``kubernetes`` client (``pip install 'katibsim[kind]'``), built from a kubeconfig context with
``new_client_from_config`` (never the global configuration).

Every call goes out with ``_preload_content=False`` and its JSON is decoded here, so objects stay
plain wire-format dicts on client 36 and 37 alike (``docs/kind.md#client-versions``: v37's
pydantic models, its create that returns None on a 200, its JSON-looking logs turned into Python
reprs). Namespaced resources of API groups — ``batch/v1`` Jobs included — go through
``CustomObjectsApi``'s generic paths; pods and namespaces through ``CoreV1Api``.

Failures become :mod:`katibsim.k8s.errors`: no kubeconfig or context, an unreachable server, a
CRD that is not installed (from discovery), 403 with the RBAC rule to add, and timeouts. HTTP
429/5xx and dropped connections are retried with capped exponential back-off inside a deadline;
a 409 on create is resolved by reading the object back (it is ours when it carries our run label,
as after a retried create whose first attempt did land). Watching is an optimisation only
(:meth:`Kube.wait_changes`): a watch with a server timeout *and* a client read timeout, where a 410
Gone just tells the caller to list again.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from katibsim.k8s.errors import (
    AlreadyExists,
    ApiError,
    ApiTimeout,
    ApiUnreachable,
    ClientMissing,
    CrdMissing,
    Forbidden,
    KubeConfigError,
    NamespaceMissing,
)
# The port and its value types live in katibsim.k8s.port; they stay importable from here.
from katibsim.k8s.port import KNOWN, NAMESPACE, POD, POD_LOG, CallStats, Kube, Resource, WatchResult  # noqa: F401

DEFAULT_CONTEXT = "kind-katibsim"

TRANSIENT = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How API calls are retried and bounded.

    ``request_timeout`` is (connect, read) seconds per HTTP request; ``deadline`` bounds one
    logical call with all its retries; back-off doubles from ``base`` up to ``cap``.
    """

    attempts: int = 6
    base: float = 0.5
    cap: float = 8.0
    deadline: float = 60.0
    request_timeout: tuple[float, float] = (5.0, 30.0)

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.base * (2 ** attempt))


# -- the adapter over the official client ---------------------------------------------------------------


def _import_kubernetes():
    try:
        import kubernetes  # noqa: F401
        from kubernetes import client, config, watch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ClientMissing() from None
    return client, config, watch


def kubeconfig_files(explicit: str | None = None) -> list[str]:
    """The kubeconfig files the client reads: ``explicit``, else $KUBECONFIG's list, else ~/.kube/config."""
    if explicit:
        return [explicit]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path("~/.kube/config").expanduser())]


def _status_of(exc: Any) -> tuple[str, str, Mapping[str, Any]]:
    """(reason, message, details) from an ApiException's body (a Kubernetes Status object)."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body) if body else {}
    except (TypeError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    reason = str(data.get("reason") or getattr(exc, "reason", "") or "")
    message = str(data.get("message") or "")
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    return reason, message, details


class KubeClient(Kube):
    """:class:`Kube` over ``kubernetes.client`` (see the module docstring)."""

    def __init__(self, api_client: Any, *, context: str | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        client, _, watch = _import_kubernetes()
        self._client_mod = client
        self._watch_mod = watch
        self.api = api_client
        self.context = context
        self.server = str(getattr(api_client.configuration, "host", ""))
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.version_api = client.VersionApi(api_client)
        self.stats = CallStats()
        self._discovered: dict[str, dict[str, Resource]] = {}

    @classmethod
    def from_kubeconfig(cls, context: str | None = DEFAULT_CONTEXT, config_file: str | None = None,
                        **kwargs: Any) -> "KubeClient":
        """A client for ``context`` (None: the current context) of the kubeconfig.

        Raises KubeConfigError naming the files read and the contexts they hold. Inside a pod
        (``KUBERNETES_SERVICE_HOST`` set) and with no kubeconfig file, the in-cluster config is used.
        """
        _, config, _ = _import_kubernetes()
        files = kubeconfig_files(config_file)
        existing = [f for f in files if Path(f).expanduser().is_file()]
        if not existing:
            if os.environ.get("KUBERNETES_SERVICE_HOST") and config_file is None:
                cfg = cls._incluster(config)
                return cls(cls._api_client(cfg), context="in-cluster", **kwargs)
            raise KubeConfigError(
                f"no kubeconfig: {', '.join(files)} does not exist; create a kind cluster with `katibsim kind up` "
                "(it writes the context kind-katibsim), or point KUBECONFIG at a kubeconfig file"
            )
        path = existing[0] if len(existing) == 1 else None
        try:
            contexts, current = config.list_kube_config_contexts(config_file=path)
        except Exception as exc:  # noqa: BLE001 - the client raises ConfigException and friends
            raise KubeConfigError(f"cannot read kubeconfig {', '.join(existing)}: {exc}") from None
        names = [c.get("name") for c in contexts or ()]
        if context is not None and context not in names:
            hint = ("; create it with `katibsim kind up`" if context == DEFAULT_CONTEXT
                    else "; pick one with --context or KATIBSIM_KUBE_CONTEXT")
            raise KubeConfigError(
                f"kubeconfig {', '.join(existing)} has no context {context!r} "
                f"(it has: {', '.join(map(str, names)) or 'none'}){hint}"
            )
        if context is None and not current:
            raise KubeConfigError(f"kubeconfig {', '.join(existing)} has no current context; name one with --context")
        try:
            api = config.new_client_from_config(config_file=path, context=context, persist_config=False)
        except Exception as exc:  # noqa: BLE001
            raise KubeConfigError(f"cannot load context {context or current.get('name')!r} from kubeconfig: {exc}") from None
        cls._tune(api.configuration)
        return cls(api, context=context or str(current.get("name")), **kwargs)

    @staticmethod
    def _incluster(config: Any) -> Any:  # pragma: no cover - needs a pod
        client, _, _ = _import_kubernetes()
        cfg = client.Configuration()
        config.load_incluster_config(client_configuration=cfg)
        return cfg

    @classmethod
    def _api_client(cls, cfg: Any) -> Any:  # pragma: no cover - needs a pod
        client, _, _ = _import_kubernetes()
        cls._tune(cfg)
        return client.ApiClient(cfg)

    @staticmethod
    def _tune(cfg: Any) -> None:
        # Our own loop retries (with back-off and a deadline); urllib3's silent retries would
        # hide an unreachable server behind several seconds of reconnects.
        cfg.retries = 0

    # -- the call wrapper -------------------------------------------------------------------------
    def _raw(self, verb: str, res: Resource, what: str, namespace: str | None, fn: Callable[..., Any],
             *args: Any, **kwargs: Any) -> Any:
        """Run one API function in raw mode with retries; returns the decoded JSON (or text)."""
        import urllib3

        client = self._client_mod
        kwargs.setdefault("_request_timeout", self.retry.request_timeout)
        kwargs["_preload_content"] = False
        start = self.clock()
        attempt = 0
        while True:
            self.stats.requests += 1
            self.stats.by_verb[verb] = self.stats.by_verb.get(verb, 0) + 1
            transient: str | None = None
            try:
                resp = fn(*args, **kwargs)
                data = resp.data if hasattr(resp, "data") else resp.read()
                return data
            except client.exceptions.ApiException as exc:
                status = int(exc.status or 0)
                reason, message, details = _status_of(exc)
                if status in TRANSIENT:
                    transient = f"HTTP {status} {reason}".strip()
                elif status == 0:
                    raise ApiUnreachable(self.server, f"{exc.reason}".strip() or "no HTTP answer", self.context) from None
                else:
                    raise self._translate(status, reason, message, details, verb, res, what, namespace) from None
            except urllib3.exceptions.MaxRetryError as exc:
                cause = exc.reason
                if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
                    transient = "read timeout"
                elif isinstance(cause, (urllib3.exceptions.ProtocolError,)) and attempt == 0:
                    transient = f"connection dropped ({cause})"
                else:
                    raise ApiUnreachable(self.server, _why(cause), self.context) from None
            except urllib3.exceptions.ReadTimeoutError:
                transient = "read timeout"
            except (urllib3.exceptions.ProtocolError, ConnectionError) as exc:
                transient = f"connection dropped ({exc})"
            except urllib3.exceptions.HTTPError as exc:
                raise ApiUnreachable(self.server, _why(exc), self.context) from None
            attempt += 1
            elapsed = self.clock() - start
            wait = self.retry.delay(attempt - 1)
            if attempt >= self.retry.attempts or elapsed + wait > self.retry.deadline:
                if transient == "read timeout":
                    raise ApiTimeout(verb, what, elapsed or self.retry.request_timeout[1],
                                     f"{attempt} attempt(s), read timeout {self.retry.request_timeout[1]:g} s")
                raise ApiError(503 if not transient.startswith("HTTP") else int(transient.split()[1]), verb, what,
                               f"gave up after {attempt} attempt(s)", transient)
            self.stats.retries += 1
            self.sleep(wait)

    def _translate(self, status: int, reason: str, message: str, details: Mapping[str, Any], verb: str,
                   res: Resource, what: str, namespace: str | None) -> Exception:
        if status == 401:
            return KubeConfigError(f"the API server at {self.server} refused the credentials of context "
                                   f"{self.context}: {message or reason}")
        if status == 403:
            return Forbidden(_rbac_verb(verb), res.plural, res.group, namespace if res.namespaced else None, message)
        if status == 404:
            if details.get("kind") == "namespaces" and namespace:
                return NamespaceMissing(namespace)
            return CrdMissing(res.api_version, res.kind, res.plural, message)
        if status == 409:
            return AlreadyExists(f"{what}: {message or reason}")
        return ApiError(status, verb, what, reason, message)

    @staticmethod
    def _json(data: bytes | str) -> Any:
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        return json.loads(data) if data else {}

    # -- the port -----------------------------------------------------------------------------------
    def server_version(self) -> dict:
        # A short deadline: this is the "is anybody there" probe.
        data = self._raw("get", Resource("", "Version", "version", namespaced=False), "/version", None,
                         self.version_api.get_code, _request_timeout=(3.0, 10.0))
        return self._json(data)

    def _discover(self, api_version: str) -> dict[str, Resource]:
        if api_version in self._discovered:
            return self._discovered[api_version]
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
        version = api_version.split("/", 1)[-1]
        probe = Resource(api_version, "APIResourceList", "", namespaced=False)
        try:
            if group:
                data = self._raw("get", probe, f"/apis/{api_version}", None, self.custom.get_api_resources,
                                 group, version)
            else:
                data = self._raw("get", probe, "/api/v1", None, self.core.get_api_resources)
        except CrdMissing:
            self._discovered[api_version] = {}
            return {}
        found: dict[str, Resource] = {}
        for r in self._json(data).get("resources") or ():
            name = str(r.get("name") or "")
            if "/" in name or not r.get("kind"):
                continue  # subresources (jobs/status)
            found[str(r["kind"])] = Resource(api_version, str(r["kind"]), name, bool(r.get("namespaced", True)))
        self._discovered[api_version] = found
        return found

    def resource(self, api_version: str, kind: str) -> Resource:
        found = self._discover(api_version)
        if kind in found:
            return found[kind]
        known = KNOWN.get((api_version, kind))
        plural = known.plural if known else None
        if not found:
            raise CrdMissing(api_version, kind, plural, f"the server does not serve API {api_version}")
        raise CrdMissing(api_version, kind, plural, f"API {api_version} serves {', '.join(sorted(found)) or 'nothing'}")

    def create(self, obj: Mapping[str, Any], *, owner: tuple[str, str] | None = None) -> dict:
        api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
        res = self.resource(api_version, kind)
        meta = obj.get("metadata") or {}
        name, namespace = str(meta.get("name") or ""), meta.get("namespace")
        what = res.describe(name, namespace)
        body = dict(obj)
        try:
            if res.group == "":
                if res.plural != "pods":
                    raise ApiError(400, "create", what, "katibsim creates core objects only as pods")
                data = self._raw("create", res, what, namespace, self.core.create_namespaced_pod, namespace, body)
            elif res.namespaced:
                data = self._raw("create", res, what, namespace, self.custom.create_namespaced_custom_object,
                                 res.group, res.version, namespace, res.plural, body)
            else:
                data = self._raw("create", res, what, None, self.custom.create_cluster_custom_object,
                                 res.group, res.version, res.plural, body)
        except AlreadyExists:
            existing = self.get(res, name, namespace)
            if existing is not None and owner is not None:
                labels = (existing.get("metadata") or {}).get("labels") or {}
                if labels.get(owner[0]) == owner[1]:
                    # Our own earlier attempt landed (its answer was lost): the create succeeded.
                    self.stats.conflicts_resolved += 1
                    return existing
            raise AlreadyExists(
                f"{what} already exists and was not created by this run; delete it "
                f"(`kubectl delete {res.plural}.{res.group or 'core'} {name} -n {namespace}`) or rename the experiment"
            ) from None
        return self._json(data)

    def get(self, res: Resource, name: str, namespace: str | None) -> dict | None:
        what = res.describe(name, namespace)
        try:
            if res.group == "":
                if res.plural == "pods":
                    data = self._raw("get", res, what, namespace, self.core.read_namespaced_pod, name, namespace)
                elif res.plural == "namespaces":
                    data = self._raw("get", res, what, None, self.core.read_namespace, name)
                else:
                    raise ApiError(400, "get", what, "katibsim reads core objects only as pods and namespaces")
            elif res.namespaced:
                data = self._raw("get", res, what, namespace, self.custom.get_namespaced_custom_object,
                                 res.group, res.version, namespace, res.plural, name)
            else:
                data = self._raw("get", res, what, None, self.custom.get_cluster_custom_object,
                                 res.group, res.version, res.plural, name)
        except (CrdMissing, NamespaceMissing):
            return None  # a 404 on an item is "not found"
        return self._json(data)

    def delete(self, res: Resource, name: str, namespace: str | None, *, propagation: str = "Background") -> bool:
        what = res.describe(name, namespace)
        try:
            if res.group == "":
                data = self._raw("delete", res, what, namespace, self.core.delete_namespaced_pod, name, namespace,
                                 propagation_policy=propagation)
            else:
                data = self._raw("delete", res, what, namespace, self.custom.delete_namespaced_custom_object,
                                 res.group, res.version, namespace, res.plural, name, propagation_policy=propagation)
        except (CrdMissing, NamespaceMissing):
            return False
        del data
        return True

    def list(self, res: Resource, namespace: str | None, label_selector: str = "") -> tuple[list[dict], str]:
        what = res.describe(None, namespace)
        kw = {"label_selector": label_selector} if label_selector else {}
        if res.group == "":
            if res.plural != "pods":
                raise ApiError(400, "list", what, "katibsim lists core objects only as pods")
            data = self._raw("list", res, what, namespace, self.core.list_namespaced_pod, namespace, **kw)
        else:
            data = self._raw("list", res, what, namespace, self.custom.list_namespaced_custom_object,
                             res.group, res.version, namespace, res.plural, **kw)
        doc = self._json(data)
        items = [i for i in doc.get("items") or () if isinstance(i, dict)]
        return items, str((doc.get("metadata") or {}).get("resourceVersion") or "")

    def pod_log(self, name: str, namespace: str, container: str | None = None, *, previous: bool = False) -> str | None:
        kw: dict[str, Any] = {}
        if container:
            kw["container"] = container
        if previous:
            kw["previous"] = True
        try:
            data = self._raw("get", POD_LOG, f"log of pod {name} in namespace {namespace}", namespace,
                             self.core.read_namespaced_pod_log, name, namespace, **kw)
        except (CrdMissing, NamespaceMissing):
            return None
        except ApiError as exc:
            if exc.status == 400:  # the container has not started (or was never there)
                return None
            raise
        # Raw bytes: the client's preloaded log of a JSON-looking line is a Python repr (docs/kind.md#client-versions).
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)

    def wait_changes(self, res: Resource, namespace: str, label_selector: str, resource_version: str | None,
                     timeout: float) -> WatchResult:
        import urllib3

        client = self._client_mod
        seconds = max(1, int(timeout))
        w = self._watch_mod.Watch()
        kw: dict[str, Any] = {"label_selector": label_selector, "timeout_seconds": seconds,
                              # the server-side timeout alone hangs on a dead connection (issue 1402)
                              "_request_timeout": (self.retry.request_timeout[0], seconds + 5)}
        if resource_version:
            kw["resource_version"] = resource_version
        if res.group == "":
            fn, args = self.core.list_namespaced_pod, (namespace,)
        else:
            fn, args = self.custom.list_namespaced_custom_object, (res.group, res.version, namespace, res.plural)
        self.stats.requests += 1
        self.stats.by_verb["watch"] = self.stats.by_verb.get("watch", 0) + 1
        try:
            for event in w.stream(fn, *args, **kw):
                rv = ((event.get("raw_object") or {}).get("metadata") or {}).get("resourceVersion")
                w.stop()
                return WatchResult("event", rv)
        except client.exceptions.ApiException as exc:
            if exc.status == 410:
                self.stats.watch_gone += 1
                return WatchResult("gone")
            reason, message, details = _status_of(exc)
            if exc.status in TRANSIENT:
                return WatchResult("timeout")
            raise self._translate(int(exc.status or 0), reason, message, details, "watch", res,
                                  res.describe(None, namespace), namespace) from None
        except (urllib3.exceptions.HTTPError, ConnectionError):
            return WatchResult("timeout")  # polling stays the source of truth
        return WatchResult("timeout")

    def close(self) -> None:
        try:
            self.api.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def _why(cause: Any) -> str:
    text = str(cause)
    if "Connection refused" in text or "ConnectionRefused" in type(cause).__name__:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if "timed out" in text.lower():
        return "the connection timed out"
    return text


def _rbac_verb(verb: str) -> str:
    return {"read": "get"}.get(verb, verb)


__all__ = [
    "DEFAULT_CONTEXT", "Resource", "POD", "NAMESPACE", "KNOWN", "RetryPolicy", "WatchResult", "CallStats", "Kube",
    "KubeClient", "kubeconfig_files",
]
