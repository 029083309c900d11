"""The repository stands alone: no tracked file points outside it.

A reader of a clone has neither the steering folder the project was started from nor anybody's
machine. So no tracked text file (``git ls-files``, ``.github/`` included; binary files skipped)
may name:

- the steering folder the project was started from (``shared`` one level up, or its
  reference, docs and seed folders) — Katib facts live in ``docs/katib-behaviour.md`` instead;
- an absolute path under a home or workspace root (``work``, ``home``, ``root``, ``Users`` at the
  top of the file system): always somebody's machine;
- an absolute path under ``/tmp`` or ``/opt``, unless it is plainly a path somewhere else than
  this machine or a documented setting:
  - inside a Kubernetes or kind manifest (a YAML document holding a mapping with ``apiVersion``
    and ``kind``): paths there live in a pod or a node (``/opt/katibsim/evaluate.py``);
  - on a line that builds a container's command (``command``, ``args``, ``sh -c``) or says the
    path is "in the pod" or "in the node": a path in an image or a cluster;
  - under ``tests/``: fixture values (in-image paths, trial folders handed to pure functions); a
    test that needs a real folder uses ``tmp_path``;
  - ``/tmp/katibsim-shared``: the kind backend's host folder, a documented default
    (``KATIBSIM_SHARED_DIR``, ``kind-config.yaml``), not a file anybody must have.

Paths such as ``/var/log/katib`` (Katib's collector paths, inside pods) are not under these roots
and are always fine. The rule itself is tested on strings below; the strings are assembled from
pieces so that this file obeys its own rule.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

_SEP = "/"
STEERING = re.compile(r"\.\./shared\b|(?<![\w.-])shared/(?:reference|docs|seed)/")
MACHINE_ROOTS = ("work", "home", "root", "Users")
SCRATCH_ROOTS = ("tmp", "opt")
# An absolute path: the root right after a start, a space, a quote, a bracket, '=' or ','; not a
# URL segment or a relative path (``docs/tmp/x``, ``https://x/home/``).
_ABSOLUTE = re.compile(
    r"(?:^|(?<=[\s'\"`(\[{=,<>|]))/(" + "|".join(MACHINE_ROOTS + SCRATCH_ROOTS) + r")(?=/|$|[\s'\"`),;:\]}])"
)
CONTAINER_HINTS = ("command", "args", "sh -c", "in the pod", "in the node")
ALLOWED_PATHS = ("/tmp/katibsim-shared",)


def _is_manifest(node) -> bool:
    if isinstance(node, dict):
        if "apiVersion" in node and "kind" in node:
            return True
        return any(_is_manifest(v) for v in node.values())
    if isinstance(node, list):
        return any(_is_manifest(v) for v in node)
    return False


def holds_manifest(path: str, text: str) -> bool:
    """True for a YAML file with a Kubernetes or kind manifest anywhere in one of its documents."""
    if not path.endswith((".yaml", ".yml")):
        return False
    try:
        return any(_is_manifest(doc) for doc in yaml.safe_load_all(text))
    except (yaml.YAMLError, ValueError, RecursionError):  # the fuzz corpus holds hostile YAML on purpose
        return False


def problems(path: str, text: str) -> list[str]:
    """Every line of ``text`` (the file at repository path ``path``) that points outside the repository."""
    # A Dockerfile's paths are inside the image it builds, as a manifest's are inside the pod.
    manifest = holds_manifest(path, text) or path.rsplit("/", 1)[-1].startswith("Dockerfile")
    in_tests = path.startswith("tests/")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if STEERING.search(line):
            found.append(f"{path}:{number}: names the steering folder: {line.strip()}")
            continue
        for m in _ABSOLUTE.finditer(line):
            if m.group(1) in SCRATCH_ROOTS:
                rest = line[m.start():]
                if (manifest or in_tests or any(rest.startswith(p) for p in ALLOWED_PATHS)
                        or any(h in line for h in CONTAINER_HINTS)):
                    continue
            found.append(f"{path}:{number}: an absolute path outside the repository: {line.strip()}")
            break
    return found


def _tracked_text_files() -> list[tuple[str, str]]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    out = []
    for name in filter(None, listed.decode().split("\0")):
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            out.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return out


def test_no_tracked_file_points_outside_the_repository():
    files = _tracked_text_files()
    assert any(name.startswith(".github/") for name, _ in files)  # the workflows are checked too
    found = [p for name, text in files for p in problems(name, text)]
    assert not found, "\n".join(found)


# -- the rule, on strings ------------------------------------------------------------------------------
def _p(*parts: str) -> str:
    return "".join(parts)


SHARED = _p("..", _SEP, "shared")


@pytest.mark.parametrize(
    "path, line",
    [
        ("katibsim/x.py", f"# see {SHARED}/reference/katib.md §3.6"),
        ("docs/a.md", f"(`{SHARED}`)"),
        ("docs/a.md", _p("in `shared", _SEP, "reference/katib.md`")),
        ("docs/a.md", _p("the design (`shared", _SEP, "docs/design.md`)")),
        ("tests/t.py", _p('seed = Path("', _SEP, 'work/sh', 'ared/seed/x.yaml")')),
        ("tests/t.py", _p('p = "', _SEP, 'home/me/katibsim/x"')),
        ("docs/b.md", _p("run from ", _SEP, "root/checkout")),
        ("docs/b.md", _p("  last lines of ", _SEP, "tmp/docex/run1/output.log:")),
        ("docs/b.md", _p("katibsim compare s.yaml --out ", _SEP, "tmp/r")),
        ("katibsim/x.py", _p('DEFAULT = "', _SEP, 'opt/conda/bin/python3"')),
        ("Makefile", _p("PY := ", _SEP, "opt/venv/bin/python")),
        ("katibsim/x.py", _p("x = '", _SEP, "tmp'")),
        (".github/workflows/ci.yaml", _p("  run: cp out ", _SEP, "tmp/results")),
    ],
)
def test_the_rule_refuses(path, line):
    assert problems(path, line + "\n"), line


@pytest.mark.parametrize(
    "path, line",
    [
        ("katibsim/x.py", 'DEFAULT_FILE_PATH = "/var/log/katib/metrics.log"'),
        ("docs/a.md", "see [katib-behaviour.md §3.6](katib-behaviour.md#trial-requests)"),
        ("docs/a.md", "https://github.com/kubeflow/katib/tree/master/pkg"),
        ("docs/a.md", _p("a relative docs", _SEP, "tmp", _SEP, "x and results", _SEP, "home", _SEP, "y")),
        ("docs/a.md", _p("file://", _SEP, "opt", _SEP, "x is a URL")),
        ("docs/a.md", _p("the ", _SEP, "optimum and ", _SEP, "temporary are not roots")),
        ("docs/kind.md", _p("1. `mkdir ", _SEP, "tmp/katibsim-shared` — the shared folder")),
        ("katibsim/x.py", _p('SHARED = "', _SEP, 'tmp/katibsim-shared"')),
        ("katibsim/x.py", _p('# a command such as sh -c "python ', _SEP, 'opt/x.py"')),
        ("katibsim/x.py", _p('"command": ["python3", "', _SEP, 'opt/train.py"]')),
        ("docs/a.md", _p("a volume (in the pod it is `", _SEP, "opt/katib/data`)")),
        ("tests/local/t.py", _p('trial_dir="', _SEP, 'tmp/x/t"')),
        ("tests/local/t.py", _p('LocalMap.build(None, ["', _SEP, 'opt/fake=here"])')),
        ("katibsim/shared_dir.py", "from katibsim import shared"),
    ],
)
def test_the_rule_allows(path, line):
    assert problems(path, line + "\n") == []


def test_paths_inside_a_manifest_are_the_pods_not_this_machines():
    manifest = _p(
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nspec:\n  trialTemplate:\n    trialSpec:\n",
        "      containers:\n        - command:\n            - python3\n            - \"", _SEP, "opt/katibsim/evaluate.py\"\n",
    )
    assert problems("examples/e.yaml", manifest) == []
    embedded = _p("name: s\nexperiment:\n  apiVersion: kubeflow.org/v1beta1\n  kind: Experiment\n",
                  "  note: \"", _SEP, "opt/app/train.py\"\n")
    assert problems("scenarios/s.yaml", embedded) == []
    # the same path in a YAML file that holds no manifest is this machine's
    assert problems("scenarios/s.yaml", _p("name: s\nnote: \"", _SEP, "opt/app/train.py\"\n"))
    # and a home or workspace path is refused even inside a manifest
    assert problems("examples/e.yaml", _p("apiVersion: v1\nkind: Pod\nx: ", _SEP, "home/me/x\n"))


def test_paths_inside_a_dockerfile_are_the_images():
    assert problems("Dockerfile", _p("WORKDIR ", _SEP, "opt/katibsim\n")) == []
    assert problems("deploy/Dockerfile.serve", _p("COPY . ", _SEP, "opt/app\n")) == []
    # the same line anywhere else is this machine's, and a home path is refused even in a Dockerfile
    assert problems("docs/x.md", _p("WORKDIR ", _SEP, "opt/katibsim\n"))
    assert problems("Dockerfile", _p("COPY ", _SEP, "home/me/x .\n"))
