"""No import cycles among katibsim's modules: the import graph of katibsim/ (built with ast, every
import counted, also those inside functions) has no strongly connected component of two or more
modules, apart from the known ones listed below."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "katibsim"

# Cycles allowed for a while (none now). Every entry is the module set of one cycle.
KNOWN: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The katibsim modules ``path`` imports, anywhere in it (``from a import b`` counts a.b when
    that is a module, else a)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.add(sub if sub in modules else target)
    found = set()
    for m in out:
        while m and m not in modules:
            m = m.rpartition(".")[0]
        if m and m != name:
            found.add(m)
    return found


def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def cycles(g: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[frozenset[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_imports_inside_functions():
    g = graph()
    assert "katibsim.algorithm_factory" in g["katibsim.engine.run"]  # a late import, inside simulate()
    assert "katibsim.commands" in g["katibsim.plugins"]


def test_no_import_cycles():
    found = cycles(graph())
    unknown = [sorted(c) for c in found if c not in KNOWN]
    assert not unknown, "import cycles: " + "; ".join(" <-> ".join(c) for c in unknown)


def test_the_known_cycles_still_exist():
    """An allowance that is no longer needed must go."""
    found = set(cycles(graph()))
    assert not [sorted(c) for c in KNOWN if c not in found]
