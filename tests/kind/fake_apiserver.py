"""FakeKubeAPIServer: an in-process FAKE of a Kubernetes API server, for tests only.

It is not Kubernetes. It speaks enough of the real HTTP/JSON protocol for the real ``kubernetes``
client (configured by a real kubeconfig that points at it) to create, get, list, watch and delete
objects, read pod logs and run discovery — so paths, verbs, query parameters, serialisation and
error bodies are exercised the way a real API server exercises them (httpx's MockTransport
idea: replace the network, not the client).

What it copies from the real server (``docs/kind.md#fakes``): 201 on create, 404 /
409 / 403 / 410 answers carrying a ``Status`` body, uid / resourceVersion / creationTimestamp,
status ignored on create (the status subresource), equality label selectors, ``propagationPolicy``
on delete (a Job deleted without one orphans its pods, as the real API does), watch streams
with ``timeoutSeconds`` and 410 ``ERROR`` events, and discovery (``/apis/<group>/<version>``)
so an uninstalled CRD is a 404.

What it adds for tests: a scripted "controller" that moves objects through their lives on a
timer (a Job going Active → Complete, a TFJob Succeeded, a pod with its log, event files written
to the folder the kind node would share, Katib's Experiment, Trials and Suggestion), and fault
injection (HTTP 500s, answers that are lost after the change was made, delays longer than the
client's timeout, 403s, 410 Gone on watches). Everything it received is recorded in
``requests``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

DEFAULT_APIS: dict[str, list[dict[str, Any]]] = {
    "v1": [
        {"name": "pods", "kind": "Pod", "namespaced": True},
        {"name": "pods/log", "kind": "Pod", "namespaced": True},
        {"name": "namespaces", "kind": "Namespace", "namespaced": False},
    ],
    "batch/v1": [
        {"name": "jobs", "kind": "Job", "namespaced": True},
        {"name": "jobs/status", "kind": "Job", "namespaced": True},
    ],
    "kubeflow.org/v1": [
        {"name": "tfjobs", "kind": "TFJob", "namespaced": True},
        {"name": "pytorchjobs", "kind": "PyTorchJob", "namespaced": True},
    ],
    "kubeflow.org/v1beta1": [
        {"name": "experiments", "kind": "Experiment", "namespaced": True},
        {"name": "trials", "kind": "Trial", "namespaced": True},
        {"name": "suggestions", "kind": "Suggestion", "namespaced": True},
    ],
}

CRD_BY_API = {"kubeflow.org/v1": "kubeflow.org/v1", "kubeflow.org/v1beta1": "kubeflow.org/v1beta1"}


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details or {}, "code": code}


def selector_matches(selector: str, labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = re.split("==?", term, maxsplit=1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif labels.get(term) is None:
            return False
    return True


@dataclass
class Fault:
    """Answer ``status`` to ``count`` requests matching ``method`` and ``path`` (a regex).

    ``after_commit``: make the change first, then answer the error (a lost answer). ``delay``:
    sleep that long before answering (0: none); with ``status`` 0 only the delay applies.
    """

    method: str
    path: str
    status: int = 500
    count: int = 1
    reason: str = "InternalError"
    message: str = "fake: injected failure"
    after_commit: bool = False
    delay: float = 0.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and method == self.method and re.search(self.path, path) is not None


@dataclass
class Step:
    """At ``at`` seconds after the object's creation, ``action(server, obj_key)`` runs once."""

    at: float
    action: Callable[["FakeKubeAPIServer", tuple], None]
    done: bool = False


@dataclass
class _Stored:
    obj: dict
    created: float
    steps: list[Step] = field(default_factory=list)


class FakeKubeAPIServer:
    """See the module docstring. Use as a context manager; ``kubeconfig(path)`` writes a kubeconfig."""

    def __init__(self, *, node_dir: str = "/katibsim-shared", host_dir: str | None = None,
                 namespaces: tuple[str, ...] = ("default", "kubeflow"), tick: float = 0.02) -> None:
        self.lock = threading.RLock()
        self.objects: dict[tuple[str, str, str, str], _Stored] = {}
        self.namespaces = set(namespaces)
        self.apis = copy.deepcopy(DEFAULT_APIS)
        self.rv = 100
        self.events: list[tuple[int, str, tuple, dict]] = []  # (rv, type, key, object) for watches
        self.faults: list[Fault] = []
        self.gone_watches = 0
        self.requests: list[tuple[str, str]] = []
        self.deletes: list[tuple[str, str, str | None]] = []  # (plural, name, propagationPolicy)
        self.forbidden: set[tuple[str, str]] = set()  # (verb, plural)
        self.scripts: dict[str, Callable[[dict], list[Step]]] = {}  # kind -> script builder
        self.logs: dict[tuple[str, str, str], str] = {}  # (namespace, pod, container) -> text
        self.node_dir = node_dir
        self.host_dir = host_dir
        self.token = "fake-token"
        self.tick = tick
        self.max_live: dict[str, int] = {}
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads = [threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True),
                         threading.Thread(target=self._controller_loop, daemon=True)]

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> "FakeKubeAPIServer":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def kubeconfig(self, path: Path, context: str = "kind-katibsim") -> Path:
        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        }
        path.write_text(json.dumps(doc))
        return path

    # -- state helpers (used by scripts and tests) ------------------------------------------------
    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _emit(self, kind: str, key: tuple, obj: dict) -> None:
        self.events.append((self.rv, kind, key, copy.deepcopy(obj)))

    def put(self, api_version: str, plural: str, obj: dict, steps: list[Step] | None = None) -> dict:
        """Store a new object as the server would (metadata filled in)."""
        with self.lock:
            meta = obj.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            meta["resourceVersion"] = self._next_rv()
            meta.setdefault("generation", 1)
            key = (api_version, plural, meta.get("namespace") or "", meta["name"])
            self.objects[key] = _Stored(obj, time.monotonic(), steps or [])
            self._emit("ADDED", key, obj)
            live = sum(1 for k in self.objects if k[1] == plural)
            self.max_live[plural] = max(self.max_live.get(plural, 0), live)
            return obj

    def update(self, key: tuple, change: Callable[[dict], None]) -> None:
        with self.lock:
            stored = self.objects.get(key)
            if stored is None:
                return
            change(stored.obj)
            stored.obj["metadata"]["resourceVersion"] = self._next_rv()
            self._emit("MODIFIED", key, stored.obj)

    def remove(self, key: tuple) -> dict | None:
        with self.lock:
            stored = self.objects.pop(key, None)
            if stored is None:
                return None
            self._next_rv()
            self._emit("DELETED", key, stored.obj)
            return stored.obj

    def find(self, plural: str, namespace: str | None = None, selector: str = "") -> list[dict]:
        with self.lock:
            return [copy.deepcopy(s.obj) for k, s in self.objects.items()
                    if k[1] == plural and (namespace is None or k[2] == namespace)
                    and selector_matches(selector, s.obj.get("metadata", {}).get("labels"))]

    def get_obj(self, api_version: str, plural: str, namespace: str, name: str) -> dict | None:
        with self.lock:
            s = self.objects.get((api_version, plural, namespace, name))
            return copy.deepcopy(s.obj) if s else None

    def uninstall(self, api_version: str, plural: str | None = None) -> None:
        """Remove a served resource (a CRD that is not installed); without ``plural`` the whole API."""
        with self.lock:
            if plural is None:
                self.apis.pop(api_version, None)
            else:
                self.apis[api_version] = [r for r in self.apis.get(api_version, []) if r["name"].split("/")[0] != plural]

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def gone_on_next_watches(self, n: int = 1) -> None:
        with self.lock:
            self.gone_watches += n

    def _served(self, api_version: str, plural: str) -> bool:
        return any(r["name"] == plural for r in self.apis.get(api_version, []))

    # -- the scripted controller -------------------------------------------------------------------
    def _controller_loop(self) -> None:
        while not self._stop.is_set():
            due: list[tuple[Step, tuple]] = []
            with self.lock:
                t = time.monotonic()
                for key, stored in list(self.objects.items()):
                    for step in stored.steps:
                        if not step.done and t - stored.created >= step.at:
                            step.done = True
                            due.append((step, key))
            for step, key in due:
                try:
                    step.action(self, key)
                except Exception as exc:  # noqa: BLE001 - a broken script must be visible in the test
                    self.requests.append(("SCRIPT-ERROR", repr(exc)))
            self._stop.wait(self.tick)

    # -- HTTP ----------------------------------------------------------------------------------------
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _dispatch(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                server.requests.append((method, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
                    return
                fault = None
                with server.lock:
                    for f in server.faults:
                        if f.matches(method, url.path):
                            f.count -= 1
                            f.hits += 1
                            fault = f
                            break
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.status and not fault.after_commit:
                    self._send(fault.status, status_body(fault.status, fault.reason, fault.message))
                    return
                code, body, ctype = server.route(method, url.path, query, raw, self)
                if code is None:
                    return  # streamed already
                if fault is not None and fault.status and fault.after_commit:
                    self._send(fault.status, status_body(fault.status, fault.reason, fault.message))
                    return
                self._send(code, body, ctype)

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_DELETE(self) -> None:
                self._dispatch("DELETE")

            def do_PATCH(self) -> None:
                self._dispatch("PATCH")

            def do_PUT(self) -> None:
                self._dispatch("PUT")

        return Handler

    def route(self, method: str, path: str, query: dict, raw: bytes, handler: Any) -> tuple:
        if path in ("/version", "/version/") and method == "GET":
            return 200, {"major": "1", "minor": "35", "gitVersion": "v1.35.0-fake", "platform": "linux/amd64"}, "application/json"
        if path == "/api/v1" and method == "GET":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": self.apis["v1"]}, "application/json"
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)", path)
        if m and method == "GET":
            av = f"{m.group(1)}/{m.group(2)}"
            if av not in self.apis:
                return 404, status_body(404, "NotFound", "the server could not find the requested resource"), "application/json"
            return 200, {"kind": "APIResourceList", "groupVersion": av, "resources": self.apis[av]}, "application/json"
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)", path)
        if m and method == "GET":
            ns = m.group(1)
            if self._forbidden("get", "namespaces"):
                return self._forbid("get", "namespaces", "", None)
            if ns not in self.namespaces:
                return 404, status_body(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"}), "application/json"
            return 200, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}, "status": {"phase": "Active"}}, "application/json"
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(?:/(log))?", path)
        if m:
            ns, name, log = m.groups()
            if log:
                return self._pod_log(ns, name, query)
            return self._resource(method, "v1", "pods", "", ns, name, query, raw, handler)
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?", path)
        if m:
            group, version, ns, plural, name = m.groups()
            return self._resource(method, f"{group}/{version}", plural, group, ns, name, query, raw, handler)
        return 404, status_body(404, "NotFound", "the server could not find the requested resource"), "application/json"

    def _forbidden(self, verb: str, plural: str) -> bool:
        return (verb, plural) in self.forbidden

    def _forbid(self, verb: str, plural: str, group: str, ns: str | None) -> tuple:
        gtext = f'in API group "{group}"' if group else 'in API group ""'
        where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
        res = f"{plural}.{group}" if group else plural
        msg = f'{res} is forbidden: User "system:serviceaccount:default:fake" cannot {verb} resource "{plural}" {gtext}{where}'
        return 403, status_body(403, "Forbidden", msg, {"kind": plural, "group": group}), "application/json"

    def _pod_log(self, ns: str, name: str, query: dict) -> tuple:
        if self._forbidden("get", "pods/log"):
            return self._forbid("get", "pods/log", "", ns)
        pod = self.get_obj("v1", "pods", ns, name)
        if pod is None:
            return 404, status_body(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"}), "application/json"
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or (containers[0] if len(containers) == 1 else None)
        if container is None:
            return 400, status_body(400, "BadRequest", f"a container name must be specified for pod {name}, choose one of: {containers}"), "application/json"
        if container not in containers:
            return 400, status_body(400, "BadRequest", f"container {container} is not valid for pod {name}"), "application/json"
        if pod.get("status", {}).get("phase") == "Pending":
            return 400, status_body(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'), "application/json"
        return 200, self.logs.get((ns, name, container), "").encode(), "text/plain"

    def _resource(self, method: str, api_version: str, plural: str, group: str, ns: str, name: str | None,
                  query: dict, raw: bytes, handler: Any) -> tuple:
        verb = {"POST": "create", "DELETE": "delete", "GET": "get" if name else ("watch" if query.get("watch") in ("true", "1") else "list")}.get(method, method.lower())
        if not self._served(api_version, plural):
            return 404, status_body(404, "NotFound", "the server could not find the requested resource"), "application/json"
        if self._forbidden(verb, plural):
            return self._forbid(verb, plural, group, ns)
        if ns not in self.namespaces:
            return 404, status_body(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"}), "application/json"
        key = (api_version, plural, ns, name or "")
        if method == "POST":
            obj = json.loads(raw or b"{}")
            obj_name = (obj.get("metadata") or {}).get("name")
            with self.lock:
                if (api_version, plural, ns, obj_name) in self.objects:
                    return 409, status_body(409, "AlreadyExists", f'{plural}.{group} "{obj_name}" already exists',
                                            {"name": obj_name, "group": group, "kind": plural}), "application/json"
                obj.pop("status", None)  # the status subresource ignores status on create
                obj["metadata"]["namespace"] = ns
                script = self.scripts.get(obj.get("kind", ""))
                stored = self.put(api_version, plural, obj, script(obj) if script else [])
                return 201, copy.deepcopy(stored), "application/json"
        if method == "GET" and name:
            obj = self.get_obj(api_version, plural, ns, name)
            if obj is None:
                return 404, status_body(404, "NotFound", f'{plural}.{group} "{name}" not found', {"name": name, "group": group, "kind": plural}), "application/json"
            return 200, obj, "application/json"
        if method == "GET":
            selector = query.get("labelSelector", "")
            if verb == "watch":
                self._watch(handler, api_version, plural, ns, selector, query)
                return None, None, None
            items = self.find(plural, ns, selector)
            items = [o for o in items if o.get("apiVersion", api_version) == api_version or plural == "pods"]
            kind = items[0]["kind"] + "List" if items else "List"
            return 200, {"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": str(self.rv)}, "items": items}, "application/json"
        if method == "DELETE" and name:
            policy = query.get("propagationPolicy")
            with self.lock:
                self.deletes.append((plural, name, policy))
                obj = self.remove(key)
                if obj is None:
                    return 404, status_body(404, "NotFound", f'{plural}.{group} "{name}" not found', {"name": name, "group": group, "kind": plural}), "application/json"
                if policy in ("Background", "Foreground"):
                    self._delete_dependents(obj["metadata"]["uid"])
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name, "kind": plural}}, "application/json"
        return 405, status_body(405, "MethodNotAllowed", f"{method} is not supported"), "application/json"

    def _delete_dependents(self, uid: str) -> None:
        for key, stored in list(self.objects.items()):
            owners = stored.obj.get("metadata", {}).get("ownerReferences") or []
            if any(o.get("uid") == uid for o in owners):
                self.remove(key)
                self._delete_dependents(stored.obj["metadata"]["uid"])

    def _watch(self, handler: Any, api_version: str, plural: str, ns: str, selector: str, query: dict) -> None:
        timeout = float(query.get("timeoutSeconds") or 30)
        since = int(query.get("resourceVersion") or self.rv)
        # Like the real server: HTTP/1.1 chunked, one JSON event per line and chunk (a close-
        # delimited body would reach the client only when the watch ends).
        handler.protocol_version = "HTTP/1.1"
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()

        def chunk(data: bytes) -> None:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            handler.wfile.flush()

        with self.lock:
            gone = self.gone_watches > 0
            if gone:
                self.gone_watches -= 1
        try:
            if gone:
                body = status_body(410, "Expired", f"too old resource version: {since} ({self.rv})")
                chunk((json.dumps({"type": "ERROR", "object": body}) + "\n").encode())
                chunk(b"")
                return
            end = time.monotonic() + timeout
            sent = since
            while time.monotonic() < end and not self._stop.is_set():
                with self.lock:
                    fresh = [e for e in self.events if e[0] > sent and e[2][1] == plural and e[2][2] == ns
                             and selector_matches(selector, e[3].get("metadata", {}).get("labels"))]
                    sent = self.rv
                for _, kind, _, obj in fresh:
                    chunk((json.dumps({"type": kind, "object": obj}) + "\n").encode())
                time.sleep(self.tick)
            chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass


# -- scripts: what a controller and a kubelet would do ---------------------------------------------------


def _pod_for(server: FakeKubeAPIServer, owner: dict, template: dict, pod_name: str, extra_labels: dict) -> tuple:
    ns = owner["metadata"]["namespace"]
    meta = copy.deepcopy(template.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.update(extra_labels)
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                     "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                          "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                          "controller": True}]},
        "spec": copy.deepcopy(template["spec"]),
        "status": {"phase": "Pending"},
    }
    server.put("v1", "pods", pod)
    return ("v1", "pods", ns, pod_name)


def _set_pod(server: FakeKubeAPIServer, key: tuple, phase: str, exit_code: int | None = None,
             waiting: dict | None = None) -> None:
    def change(pod: dict) -> None:
        statuses = []
        for c in pod["spec"]["containers"]:
            if waiting is not None:
                state = {"waiting": waiting}
            elif phase == "Running":
                state = {"running": {"startedAt": now_rfc3339()}}
            elif phase in ("Succeeded", "Failed"):
                state = {"terminated": {"exitCode": exit_code or 0, "reason": "Completed" if not exit_code else "Error",
                                        "finishedAt": now_rfc3339()}}
            else:
                state = {"waiting": {"reason": "ContainerCreating"}}
            statuses.append({"name": c["name"], "image": c.get("image", ""), "ready": phase == "Running",
                             "restartCount": 0, "state": state})
        pod["status"] = {"phase": phase, "containerStatuses": statuses, "startTime": now_rfc3339()}

    server.update(key, change)


def write_events(host_dir: Path, values: list[tuple[int, float]], tag: str) -> None:
    """Real TensorFlow event files (tensorboardX), as a trainer writes them."""
    from tensorboardX import SummaryWriter

    host_dir.mkdir(parents=True, exist_ok=True)
    w = SummaryWriter(logdir=str(host_dir))
    for step, v in values:
        w.add_scalar(tag, v, step)
    w.close()


def _events_dir(server: FakeKubeAPIServer, pod: dict, container: str) -> Path | None:
    """Where the kubelet would put this pod's files: hostPath + subPathExpr, mapped to the host."""
    if server.host_dir is None:
        return None
    c = next(c for c in pod["spec"]["containers"] if c["name"] == container)
    for m in c.get("volumeMounts") or []:
        vol = next((v for v in pod["spec"].get("volumes") or [] if v["name"] == m["name"]), None)
        if vol and "hostPath" in vol:
            node = vol["hostPath"]["path"]
            rel = node[len(server.node_dir):].lstrip("/")
            sub = m.get("subPathExpr", "").replace("$(KATIBSIM_POD_NAME)", pod["metadata"]["name"])
            return Path(server.host_dir) / rel / sub
    return None


@dataclass
class Trainer:
    """What a trial's container does: print a log, write event files, exit with a code, or hang."""

    log: str = ""
    exit_code: int = 0
    duration: float = 0.15
    events: list[tuple[int, float]] | None = None
    event_tag: str = "accuracy_1"
    event_subdir: str = ""
    image_pull: str | None = None  # e.g. "ErrImagePull": the pod never starts
    hangs: bool = False
    live_log: str | None = None  # the log while it runs (before it ends)
    container: str | None = None  # whose log it is (default: the first container)


def job_script(choose: Callable[[dict], Trainer]) -> Callable[[dict], list[Step]]:
    """A batch/v1 Job controller + kubelet: pod Pending → Running → Succeeded/Failed, Job conditions."""

    def build(job: dict) -> list[Step]:
        trainer = choose(job)
        name = job["metadata"]["name"]
        pod_name = f"{name}-{uuid.uuid4().hex[:5]}"
        keys: dict[str, tuple] = {}

        def start(server: FakeKubeAPIServer, key: tuple) -> None:
            tmpl = job["spec"]["template"]
            labels = {"batch.kubernetes.io/job-name": name, "job-name": name,
                      "batch.kubernetes.io/controller-uid": server.get_obj(*key)["metadata"]["uid"]}
            owner = server.get_obj(*key)
            keys["pod"] = _pod_for(server, owner, tmpl, pod_name, labels)
            server.update(key, lambda j: j.setdefault("status", {}).update({"active": 1, "startTime": now_rfc3339(), "ready": 0}))

        def run(server: FakeKubeAPIServer, key: tuple) -> None:
            if "pod" not in keys or server.get_obj(*keys["pod"]) is None:
                return
            if trainer.image_pull:
                _set_pod(server, keys["pod"], "Pending", waiting={
                    "reason": trainer.image_pull,
                    "message": 'Back-off pulling image "nope:latest"' if trainer.image_pull == "ImagePullBackOff"
                    else "rpc error: code = NotFound desc = failed to pull and unpack image"})
                return
            _set_pod(server, keys["pod"], "Running")
            if trainer.live_log is not None:
                pod = server.get_obj(*keys["pod"])
                container = trainer.container or pod["spec"]["containers"][0]["name"]
                server.logs[(pod["metadata"]["namespace"], pod_name, container)] = trainer.live_log

        def finish(server: FakeKubeAPIServer, key: tuple) -> None:
            if trainer.hangs or trainer.image_pull or server.get_obj(*keys.get("pod", ("", "", "", ""))) is None:
                return
            pod = server.get_obj(*keys["pod"])
            container = trainer.container or pod["spec"]["containers"][0]["name"]
            server.logs[(pod["metadata"]["namespace"], pod_name, container)] = trainer.log
            if trainer.events is not None:
                d = _events_dir(server, pod, container)
                if d is not None:
                    write_events(d / trainer.event_subdir, trainer.events, trainer.event_tag)
            ok = trainer.exit_code == 0
            _set_pod(server, keys["pod"], "Succeeded" if ok else "Failed", exit_code=trainer.exit_code)

            def done(j: dict) -> None:
                st = j.setdefault("status", {})
                st["active"] = 0
                t = now_rfc3339()
                if ok:
                    st["succeeded"] = 1
                    st["completionTime"] = t
                    st["conditions"] = [
                        {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                         "message": "Reached expected number of succeeded pods", "lastTransitionTime": t},
                        {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                         "message": "Reached expected number of succeeded pods", "lastTransitionTime": t},
                    ]
                else:
                    st["failed"] = 1
                    st["conditions"] = [
                        {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
                         "message": "Job has reached the specified backoff limit", "lastTransitionTime": t},
                        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                         "message": "Job has reached the specified backoff limit", "lastTransitionTime": t},
                    ]

            server.update(key, done)

        return [Step(0.02, start), Step(0.05, run), Step(0.05 + trainer.duration, finish)]

    return build


def tfjob_script(choose: Callable[[dict], Trainer]) -> Callable[[dict], list[Step]]:
    """The training operator for a 1-Worker TFJob: pod ``<name>-worker-0`` (job-role master),
    conditions Created → Running → Succeeded/Failed, pods kept (cleanPodPolicy None)."""

    def build(tfjob: dict) -> list[Step]:
        trainer = choose(tfjob)
        name = tfjob["metadata"]["name"]
        pod_name = f"{name}-worker-0"
        keys: dict[str, tuple] = {}

        def cond(kind: str, reason: str, message: str) -> dict:
            t = now_rfc3339()
            return {"type": kind, "status": "True", "reason": reason, "message": message,
                    "lastUpdateTime": t, "lastTransitionTime": t}

        def start(server: FakeKubeAPIServer, key: tuple) -> None:
            spec = tfjob["spec"]["tfReplicaSpecs"]
            rtype = next(iter(spec))
            labels = {"training.kubeflow.org/job-name": name, "training.kubeflow.org/replica-type": rtype.lower(),
                      "training.kubeflow.org/replica-index": "0", "training.kubeflow.org/job-role": "master",
                      "training.kubeflow.org/operator-name": "tfjob-controller"}
            keys["pod"] = _pod_for(server, server.get_obj(*key), spec[rtype]["template"], pod_name, labels)
            server.update(key, lambda j: j.setdefault("status", {}).update(
                {"conditions": [cond("Created", "TFJobCreated", f'TFJob {name} is created.')], "startTime": now_rfc3339()}))

        def run(server: FakeKubeAPIServer, key: tuple) -> None:
            if trainer.image_pull:
                _set_pod(server, keys["pod"], "Pending", waiting={"reason": trainer.image_pull, "message": "cannot pull"})
                return
            _set_pod(server, keys["pod"], "Running")
            server.update(key, lambda j: j["status"]["conditions"].append(
                cond("Running", "TFJobRunning", f"TFJob {name} is running.")))

        def finish(server: FakeKubeAPIServer, key: tuple) -> None:
            if trainer.hangs or trainer.image_pull or server.get_obj(*keys["pod"]) is None:
                return
            pod = server.get_obj(*keys["pod"])
            container = trainer.container or "tensorflow"
            server.logs[(pod["metadata"]["namespace"], pod_name, container)] = trainer.log
            if trainer.events is not None:
                d = _events_dir(server, pod, container)
                if d is not None:
                    write_events(d / trainer.event_subdir, trainer.events, trainer.event_tag)
            ok = trainer.exit_code == 0
            _set_pod(server, keys["pod"], "Succeeded" if ok else "Failed", exit_code=trainer.exit_code)

            def done(j: dict) -> None:
                conds = [c for c in j["status"]["conditions"] if c["type"] != "Running"]
                running = cond("Running", "TFJobRunning", f"TFJob {name} is running.")
                running["status"] = "False"
                conds.append(running)
                if ok:
                    conds.append(cond("Succeeded", "TFJobSucceeded", f"TFJob {name} successfully completed."))
                else:
                    conds.append(cond("Failed", "TFJobFailed", f"TFJob {name} has failed because 1 Worker replica(s) failed."))
                j["status"]["conditions"] = conds
                j["status"]["replicaStatuses"] = {"Worker": {"succeeded" if ok else "failed": 1}}

            server.update(key, done)

        return [Step(0.02, start), Step(0.05, run), Step(0.05 + trainer.duration, finish)]

    return build


__all__ = [
    "FakeKubeAPIServer", "Fault", "Step", "Trainer", "job_script", "tfjob_script", "write_events",
    "selector_matches", "status_body", "katib_script",
]


def katib_script(values: list[float], metric: str = "accuracy", fail: bool = False) -> Callable[[dict], list[Step]]:
    """Katib's controllers, scripted: a Suggestion, one Trial per value (Created → Running →
    Succeeded with an observation), then the Experiment Succeeded (ExperimentMaxTrialsReached) with
    its currentOptimalTrial and counters — or Failed with ``fail``."""

    def build(exp: dict) -> list[Step]:
        name = exp["metadata"]["name"]
        ns = exp["metadata"]["namespace"]
        params = exp["spec"]["parameters"]
        maximize = exp["spec"]["objective"]["type"] == "maximize"

        def cond(kind: str, reason: str, message: str, status: str = "True") -> dict:
            t = now_rfc3339()
            return {"type": kind, "status": status, "reason": reason, "message": message,
                    "lastUpdateTime": t, "lastTransitionTime": t}

        def owner(server: FakeKubeAPIServer, key: tuple) -> list[dict]:
            e = server.get_obj(*key)
            return [{"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "name": name,
                     "uid": e["metadata"]["uid"], "controller": True}]

        def created(server: FakeKubeAPIServer, key: tuple) -> None:
            server.put("kubeflow.org/v1beta1", "suggestions", {
                "apiVersion": "kubeflow.org/v1beta1", "kind": "Suggestion",
                "metadata": {"name": name, "namespace": ns, "ownerReferences": owner(server, key)},
                "spec": {"algorithm": exp["spec"]["algorithm"], "requests": len(values)},
                "status": {"suggestionCount": len(values), "conditions": [
                    cond("Created", "SuggestionCreated", "Suggestion is created"),
                    cond("DeploymentReady", "DeploymentReady", "Deployment is ready"),
                    cond("Running", "SuggestionRunning", "Suggestion is running")]}})
            for i, v in enumerate(values):
                server.put("kubeflow.org/v1beta1", "trials", {
                    "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
                    "metadata": {"name": f"{name}-t{i}", "namespace": ns, "ownerReferences": owner(server, key),
                                 "labels": {"katib.kubeflow.org/experiment": name}},
                    "spec": {"parameterAssignments": [{"name": p["name"], "value": str(p["feasibleSpace"].get("min", "1"))}
                                                      for p in params]},
                    "status": {"startTime": now_rfc3339(), "conditions": [
                        cond("Created", "TrialCreated", "Trial is created"),
                        cond("Running", "TrialRunning", "Trial is running")]}})
            server.update(key, lambda e: e.setdefault("status", {}).update({
                "startTime": now_rfc3339(), "trials": len(values), "trialsRunning": len(values),
                "conditions": [cond("Created", "ExperimentCreated", "Experiment is created"),
                               cond("Running", "ExperimentRunning", "Experiment is running")]}))

        def finished(server: FakeKubeAPIServer, key: tuple) -> None:
            for i, v in enumerate(values):
                tkey = ("kubeflow.org/v1beta1", "trials", ns, f"{name}-t{i}")

                def done(t: dict, v: float = v) -> None:
                    t["status"]["completionTime"] = now_rfc3339()
                    t["status"]["conditions"][-1]["status"] = "False"
                    t["status"]["conditions"].append(cond("Succeeded", "TrialSucceeded", "Trial has succeeded"))
                    t["status"]["observation"] = {"metrics": [{"name": metric, "min": str(v), "max": str(v), "latest": str(v)}]}

                server.update(tkey, done)
            best = max(range(len(values)), key=lambda i: values[i] if maximize else -values[i])

            def exp_done(e: dict) -> None:
                st = e["status"]
                st.update({"trialsRunning": 0, "trialsSucceeded": len(values), "completionTime": now_rfc3339(),
                           "succeededTrialList": [f"{name}-t{i}" for i in range(len(values))]})
                st["conditions"][-1]["status"] = "False"
                if fail:
                    st["conditions"].append(cond("Failed", "ExperimentMaxFailedTrialsReached", "Experiment has failed"))
                else:
                    st["conditions"].append(cond("Succeeded", "ExperimentMaxTrialsReached",
                                                 "Experiment has succeeded because max trial count has reached"))
                st["currentOptimalTrial"] = {
                    "bestTrialName": f"{name}-t{best}",
                    "parameterAssignments": [{"name": p["name"], "value": str(p["feasibleSpace"].get("min", "1"))} for p in params],
                    "observation": {"metrics": [{"name": metric, "min": str(values[best]), "max": str(values[best]),
                                                 "latest": str(values[best])}]}}

            server.update(key, exp_done)

        return [Step(0.02, created), Step(0.2, finished)]

    return build
