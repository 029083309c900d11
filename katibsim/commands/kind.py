"""``katibsim kind up | down | status | katib``: the kind cluster katibsim's kind backend runs on.

- ``up``: ``kind create cluster --config kind-config.yaml --name katibsim`` (single node, the folder
  ``/tmp/katibsim-shared`` shared with the node for event files), the Training Operator v1.9.x for
  TFJob (server-side apply, as its CRD is too large for client-side apply), with ``--katib`` Katib
  standalone v0.19.0, a wait until they are ready, and ``kind load docker-image`` for every
  ``--image`` built locally (``docs/kind.md#local-images``, ``#training-operator``, ``#katib-install``).
- ``down``: ``kind delete cluster --name katibsim``.
- ``status``: what the kind backend needs, checked: the context, the API server, the CRDs.
- ``katib EXPERIMENT``: Katib mode — the Experiment is submitted to Katib on the cluster, followed
  to its end, and recorded in katibsim's run-result format (``--result FILE``).

Every external command is printed (``+ ...``) before it runs; ``--dry-run`` only prints them. A
missing ``kind``, ``kubectl`` or ``docker`` is an error naming the tool and where to get it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from katibsim.errors import InputError, KatibsimError

NAME = "kind"
HELP = "Create, remove or check the kind cluster the kind backend uses; run an Experiment on Katib itself (katib)."

CLUSTER = "katibsim"
CONTEXT = f"kind-{CLUSTER}"
SHARED = "/tmp/katibsim-shared"
TRAINING_OPERATOR_REF = "v1.9.4"
KATIB_REF = "v0.19.0"
TRAINING_OPERATOR = "github.com/kubeflow/trainer.git/manifests/overlays/standalone?ref={ref}"
KATIB = "github.com/kubeflow/katib.git/manifests/v1beta1/installs/katib-standalone?ref={ref}"
KATIB_DEPLOYMENTS = ("katib-mysql", "katib-db-manager", "katib-controller", "katib-ui")

WHERE = {
    "kind": "https://kind.sigs.k8s.io/docs/user/quick-start/#installation (kind v0.32.0 or later)",
    "kubectl": "https://kubernetes.io/docs/tasks/tools/ (a version within one minor of the node's Kubernetes)",
    "docker": "a container engine kind can use (Docker, or Podman with KIND_EXPERIMENTAL_PROVIDER=podman)",
}


class CommandFailed(KatibsimError):
    exit_code = 1


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kind_command", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="create the cluster, install the Training Operator (and Katib with --katib)")
    up.add_argument("--katib", action="store_true", help=f"also install Katib standalone {KATIB_REF}")
    up.add_argument("--image", action="append", default=[], metavar="IMAGE",
                    help="a locally built image to load into the node (kind load docker-image); repeatable")
    up.add_argument("--config", default=None, metavar="FILE", help="kind config (default: kind-config.yaml of this repository)")
    up.add_argument("--training-operator-ref", default=TRAINING_OPERATOR_REF, metavar="REF",
                    help=f"Training Operator release for TFJob (default {TRAINING_OPERATOR_REF}; a v1.9.x tag)")
    up.add_argument("--katib-ref", default=KATIB_REF, metavar="REF", help=f"Katib release (default {KATIB_REF})")
    down = sub.add_parser("down", help="delete the cluster")
    status = sub.add_parser("status", help="check the cluster, the API server and the CRDs the kind backend needs")
    for p in (up, down, status):
        p.add_argument("--name", default=CLUSTER, help=f"cluster name (default {CLUSTER}; the context is kind-NAME)")
        p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    katib = sub.add_parser("katib", help="submit an Experiment to Katib on the cluster and record its outcome")
    katib.add_argument("file", metavar="EXPERIMENT", help="an Experiment file (YAML or JSON)")
    katib.add_argument("--result", metavar="FILE", help="write the run result (JSON, the format of every backend) to FILE")
    katib.add_argument("--namespace", metavar="NS", help="namespace (default: the Experiment's)")
    katib.add_argument("--context", default=None, metavar="NAME", help=f"kubeconfig context (default {CONTEXT})")
    katib.add_argument("--timeout", type=float, default=2400.0, metavar="S", help="give up after S seconds (default 2400)")
    katib.add_argument("--keep", action="store_true", help="leave the Experiment on the cluster afterwards")


def require(tools: Sequence[str]) -> None:
    """InputError naming the first tool that is not on PATH, and where to get it."""
    for tool in tools:
        if shutil.which(tool) is None:
            raise InputError(f"`{tool}` is not installed (not found on PATH); katibsim kind needs it: {WHERE[tool]}")


class Shell:
    """Runs (or, dry, only prints) external commands; every one is printed first."""

    def __init__(self, dry_run: bool = False, out=None) -> None:
        self.dry_run = dry_run
        self.out = out or sys.stdout
        self.ran: list[list[str]] = []

    def echo(self, cmd: Sequence[str]) -> None:
        print("+ " + " ".join(shlex.quote(c) for c in cmd), file=self.out, flush=True)

    def run(self, cmd: Sequence[str], *, capture: bool = False, check: bool = True) -> str:
        self.echo(cmd)
        self.ran.append(list(cmd))
        if self.dry_run:
            return ""
        try:
            proc = subprocess.run(list(cmd), text=True, capture_output=capture, check=False)
        except FileNotFoundError:
            raise InputError(f"`{cmd[0]}` is not installed (not found on PATH): {WHERE.get(cmd[0], '')}") from None
        if check and proc.returncode != 0:
            tail = (proc.stderr or "").strip().splitlines()[-5:] if capture else []
            raise CommandFailed(f"command failed (exit {proc.returncode}): {' '.join(cmd)}"
                                + ("\n" + "\n".join(tail) if tail else ""))
        return proc.stdout or ""


def repo_config() -> Path:
    here = Path(__file__).resolve().parents[2] / "kind-config.yaml"
    return here if here.is_file() else Path("kind-config.yaml")


def up(args: argparse.Namespace, sh: Shell) -> int:
    if not sh.dry_run:
        require(["docker", "kind", "kubectl"])
    config = Path(args.config) if args.config else repo_config()
    if not sh.dry_run and not config.is_file():
        raise InputError(f"kind config {config} not found; pass --config FILE")
    context = f"kind-{args.name}"
    print(f"# the node shares {SHARED} (event files of TensorFlowEvent trials)", file=sh.out)
    if not sh.dry_run:
        Path(SHARED).mkdir(parents=True, exist_ok=True)
    existing = sh.run(["kind", "get", "clusters"], capture=True).split()
    if args.name in existing:
        print(f"# cluster {args.name} exists; not creating it again", file=sh.out)
    else:
        sh.run(["kind", "create", "cluster", "--config", str(config), "--name", args.name, "--wait", "120s"])
    kubectl = ["kubectl", "--context", context]
    sh.run(kubectl + ["apply", "--server-side", "-k", TRAINING_OPERATOR.format(ref=args.training_operator_ref)])
    sh.run(kubectl + ["wait", "--for=condition=Established", "crd/tfjobs.kubeflow.org", "--timeout=120s"])
    sh.run(kubectl + ["-n", "kubeflow", "rollout", "status", "deploy/training-operator", "--timeout=300s"])
    if args.katib:
        sh.run(kubectl + ["apply", "--server-side", "-k", KATIB.format(ref=args.katib_ref)])
        sh.run(kubectl + ["wait", "--for=condition=Established", "crd/experiments.kubeflow.org",
                          "crd/trials.kubeflow.org", "crd/suggestions.kubeflow.org", "--timeout=120s"])
        for deploy in KATIB_DEPLOYMENTS:
            sh.run(kubectl + ["-n", "kubeflow", "rollout", "status", f"deploy/{deploy}", "--timeout=600s"])
        # Katib injects its metrics collector only in labelled namespaces (kubeflow already is).
        sh.run(kubectl + ["label", "namespace", "default", "katib.kubeflow.org/metrics-collector-injection=enabled",
                          "--overwrite"])
    for image in args.image:
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if tag in ("", "latest"):
            print(f"# warning: {image} is tagged :latest (or untagged): pods always pull it, so the loaded copy is not "
                  "used unless imagePullPolicy is IfNotPresent or Never", file=sh.out)
        sh.run(["kind", "load", "docker-image", image, "--name", args.name])
    print(f"# ready: katibsim run EXPERIMENT --backend kind  (context {context})", file=sh.out)
    return 0


def down(args: argparse.Namespace, sh: Shell) -> int:
    if not sh.dry_run:
        require(["kind"])
    sh.run(["kind", "delete", "cluster", "--name", args.name])
    return 0


def status(args: argparse.Namespace, sh: Shell) -> int:
    """Prints one line per check; exit 0 when the kind backend can run Job trials, 1 otherwise."""
    from katibsim.k8s.client import KubeClient
    from katibsim.k8s.errors import KubeError

    context = f"kind-{args.name}"
    if shutil.which("kind") is not None:
        clusters = sh.run(["kind", "get", "clusters"], capture=True, check=False).split()
        print(f"kind cluster {args.name}: {'present' if args.name in clusters else 'absent'}", file=sh.out)
    else:
        print("kind: not installed (not needed when the cluster is reached through the kubeconfig)", file=sh.out)
    if sh.dry_run:
        return 0
    try:
        kube = KubeClient.from_kubeconfig(context=context)
        version = kube.server_version()
    except KubeError as exc:
        print(f"API server: {exc}", file=sh.out)
        return 1
    print(f"API server: {kube.server} (context {context}), Kubernetes {version.get('gitVersion', '?')}", file=sh.out)
    ok = True
    for api_version, kind, needed in (("batch/v1", "Job", True), ("kubeflow.org/v1", "TFJob", False),
                                      ("kubeflow.org/v1beta1", "Experiment", False)):
        try:
            res = kube.resource(api_version, kind)
            print(f"{kind} ({api_version}): served as {res.plural}", file=sh.out)
        except KubeError as exc:
            print(f"{kind} ({api_version}): {exc}", file=sh.out)
            ok = ok and not needed
    kube.close()
    return 0 if ok else 1


def katib(args: argparse.Namespace) -> int:
    from katibsim.k8s.client import KubeClient
    from katibsim.k8s.katib_mode import run_katib
    from katibsim.spec.loader import load_experiment
    from katibsim.spec.validation import errors_of, validate

    experiment = load_experiment(args.file)
    errors = errors_of(validate(experiment))
    if errors:
        from katibsim.errors import SpecError

        raise SpecError(errors)
    kube = KubeClient.from_kubeconfig(context=args.context or os.environ.get("KATIBSIM_KUBE_CONTEXT") or CONTEXT)
    kube.server_version()
    try:
        result = run_katib(experiment, kube, namespace=args.namespace, timeout=args.timeout, keep=args.keep,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        kube.close()
    if args.result:
        Path(args.result).parent.mkdir(parents=True, exist_ok=True)
        Path(args.result).write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    print(f"Experiment {result.experiment}: {result.outcome} ({result.reason}) after {result.time_to_end:.0f} s")
    for t in result.trials:
        value = "-" if t.value is None else f"{t.value:g}"
        assignment = ", ".join(f"{k}={v}" for k, v in t.assignment)
        print(f"  {t.name}  {t.condition:<18} {result.metric_name}={value}  {assignment}")
    opt = result.status.current_optimal_trial
    if opt is not None:
        print(f"best trial: {opt.name} " + ", ".join(f"{m.name}={m.latest}" for m in opt.metrics))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.kind_command == "katib":
        return katib(args)
    sh = Shell(dry_run=args.dry_run)
    return {"up": up, "down": down, "status": status}[args.kind_command](args, sh)


__all__ = ["NAME", "HELP", "configure", "run", "require", "Shell"]
