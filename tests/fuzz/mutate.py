"""Mutations for the fuzz suite: structured (on the parsed document) and textual (on the bytes).

A mutation is data (a tuple drawn by hypothesis), applied deterministically, so a failing input
shrinks and replays like any hypothesis example.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Sequence

import yaml
from hypothesis import strategies as st

NASTY: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2**31, -(2**31) - 1, 2**63, 1e308, -1e-308, 0.5, "", " ", "\t", "0", "-1", "1e400",
    "nan", "inf", "..", "../../../../etc/passwd", "/var/log/katib/../../../../../../etc/passwd", "a" * 300,
    "\x00", "\u202e", "é", "${trialParameters.x}", "$(KATIB_TRIAL_NAME)", "{{.Foo}}", "{{", "-", "--x",
    "(.*)(.*)(.*)(.*)=(y)", "([\\w|-]+)\\s*:\\s*([+-]?\\d*)", "(a", "\\C", "x;y", [], {}, [1], [""], {"a": 1},
    {"name": "x"}, [{"name": "x", "value": "1"}], "StdOut", "File", "TensorFlowEvent", "Custom", "Push",
    "random", "grid", "bayesianoptimization", "hyperband", "medianstop", "double", "int", "categorical",
    "discrete", "maximize", "minimize", "9" * 50,
)
KEY_NOISE = ("typo", "Name", "name ", "", "x" * 80, "metadata", "spec", "<<")

# one structured edit: (path index, kind, nasty index, extra)
Edit = tuple[int, str, int, int]
EDIT_KINDS = ("set", "delete", "wrap", "dup", "rename", "add", "swap", "empty")
edits = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(EDIT_KINDS), st.integers(0, len(NASTY) - 1), st.integers(0, 10_000)),
    min_size=1, max_size=4,
)
# one textual edit: (position per mille, kind, payload index)
TEXT_KINDS = ("truncate", "flip", "insert", "drop-line", "dup-line", "tab", "bom", "alias")
TEXT_PAYLOADS = (
    "\n---\n", ": :", "&a [*a]", "*nope", "!!python/object:os.system", "{", "[", "'", '"', "\t", "\x00", "\xff",
    "key: " + "9" * 5000, "- &x [1, 2]\n- *x", "<<: *x", "? complex\n: key", "\r\n", "\u2028",
)
text_edits = st.lists(
    st.tuples(st.integers(0, 1000), st.sampled_from(TEXT_KINDS), st.integers(0, len(TEXT_PAYLOADS) - 1)),
    min_size=1, max_size=3,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def apply_edits(doc: Any, plan: Sequence[Edit]) -> Any:
    """``doc`` (a parsed Experiment or scenario) with the edits applied; never raises."""
    doc = copy.deepcopy(doc)
    for where, kind, nasty, extra in plan:
        paths = _paths(doc)
        path = paths[where % len(paths)]
        value = copy.deepcopy(NASTY[nasty])
        if not path:
            if kind == "set":
                doc = value
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        if kind == "set":
            parent[key] = value
        elif kind == "delete":
            del parent[key]
        elif kind == "wrap":
            parent[key] = [parent[key]]
        elif kind == "dup" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif kind == "rename" and isinstance(parent, dict):
            parent[KEY_NOISE[extra % len(KEY_NOISE)] or "empty"] = parent.pop(key)
        elif kind == "add" and isinstance(parent[key], dict):
            parent[key][KEY_NOISE[extra % len(KEY_NOISE)]] = value
        elif kind == "swap":
            other = paths[extra % len(paths)]
            if other and other[: len(path)] != path and path[: len(other)] != other:
                parent[key] = copy.deepcopy(_get(doc, other))
        elif kind == "empty":
            current = parent[key]
            parent[key] = type(current)() if isinstance(current, (dict, list, str)) else None
    return doc


def apply_text_edits(text: str, plan: Sequence[tuple[int, str, int]]) -> str:
    for per_mille, kind, payload in plan:
        pos = len(text) * per_mille // 1000
        p = TEXT_PAYLOADS[payload]
        if kind == "truncate":
            text = text[:pos]
        elif kind == "flip" and text:
            i = min(pos, len(text) - 1)
            text = text[:i] + chr((ord(text[i]) ^ 0x20) or 1) + text[i + 1 :]
        elif kind == "insert":
            text = text[:pos] + p + text[pos:]
        elif kind in ("drop-line", "dup-line"):
            lines = text.split("\n")
            i = min(pos * len(lines) // max(len(text), 1), len(lines) - 1)
            if kind == "drop-line":
                del lines[i]
            else:
                lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif kind == "tab":
            text = text.replace("  ", "\t", 1 + payload % 3)
        elif kind == "bom":
            text = "\ufeff" + text
        elif kind == "alias":
            text = text.replace("\nspec:", "\nx: &a [1, 2, 3]\ny: [*a, *a, *a]\nspec:", 1)
    return text


def dump(doc: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(doc, allow_nan=True, indent=1, default=str)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def clamp_budget(doc: Any, *, max_trials: int = 10, parallel: int = 3) -> Any:
    """Keep a mutated Experiment's simulation short (the harness bounds the work, not the input's shape)."""
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if isinstance(spec, dict):
        for key, cap in (("maxTrialCount", max_trials), ("parallelTrialCount", parallel), ("maxFailedTrialCount", max_trials)):
            v = spec.get(key)
            if isinstance(v, int) and not isinstance(v, bool) and v > cap:
                spec[key] = cap
            elif key == "maxTrialCount" and key not in spec:
                spec[key] = max_trials
    return doc
