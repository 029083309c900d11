"""Mapping an Experiment's parameters onto a simulated objective's inputs.

Three ways, tried in this order by :func:`resolve_mapping`:

* **explicit** — ``param=input[:transform...]`` entries (``--map`` on the CLI, ``mapping:`` in a
  scenario); transforms convert units: ``log10``, ``ln``, ``log2``, ``exp``, ``pow10``,
  ``scale=F`` (multiply), ``offset=F`` (add), applied left to right;
* **by name** — every objective input has a parameter of the same name (leading dashes and
  ``-``/``_`` differences ignored, so ``--learning_rate`` matches ``learning_rate``);
* **by order** — the experiment has exactly as many parameters as the objective has inputs.

Anything else is an :class:`~katibsim.errors.InputError` that lists both sides and shows how to
write ``--map``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from katibsim.errors import InputError
from katibsim.objective import Objective, ObjectiveInput
from katibsim.spec.space import Parameter, ParameterType, SearchSpace

_TRANSFORMS: Mapping[str, Callable[[float], float]] = {
    "identity": lambda x: x,
    "log10": math.log10,
    "ln": math.log,
    "log2": math.log2,
    "exp": math.exp,
    "pow10": lambda x: 10.0 ** x,
}


@dataclass(frozen=True)
class Transform:
    """One unit conversion step: a named function, or ``scale`` / ``offset`` with a factor."""

    kind: str  # a key of _TRANSFORMS, "scale" or "offset"
    factor: float = 1.0

    def apply(self, x: float) -> float:
        if self.kind == "scale":
            return x * self.factor
        if self.kind == "offset":
            return x + self.factor
        return _TRANSFORMS[self.kind](x)

    def __str__(self) -> str:
        return f"{self.kind}={self.factor!r}" if self.kind in ("scale", "offset") else self.kind

    @classmethod
    def parse(cls, text: str) -> "Transform":
        t = text.strip()
        if t in _TRANSFORMS:
            return cls(t)
        for kind in ("scale", "offset"):
            if t.startswith(kind + "="):
                try:
                    f = float(t[len(kind) + 1:])
                except ValueError:
                    break
                if not math.isfinite(f):
                    break
                return cls(kind, f)
        if t.startswith("*"):
            try:
                return cls("scale", float(t[1:]))
            except ValueError:
                pass
        known = ", ".join(list(_TRANSFORMS) + ["scale=F", "offset=F"])
        raise InputError(f"unknown transform {text!r}; known transforms: {known}")


@dataclass(frozen=True)
class InputLink:
    """One objective input fed by one experiment parameter, through optional transforms."""

    parameter: str
    input: str
    transforms: tuple[Transform, ...] = ()

    def describe(self) -> str:
        chain = "".join(f":{t}" for t in self.transforms)
        return f"{self.parameter}={self.input}{chain}"


@dataclass(frozen=True)
class ParameterMapping:
    """How an assignment (typed values by parameter name) becomes an objective's input point."""

    links: tuple[InputLink, ...]
    mode: str  # "explicit" | "name" | "order"

    def apply(self, assignment: Mapping[str, Any]) -> dict[str, Any]:
        x: dict[str, Any] = {}
        for link in self.links:
            v = assignment[link.parameter]
            if link.transforms:
                v = float(v)
                for t in link.transforms:
                    v = t.apply(v)
            x[link.input] = v
        return x

    def describe(self) -> str:
        return f"{self.mode}: " + ", ".join(l.describe() for l in self.links)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "links": [l.describe() for l in self.links]}


def _norm(name: str) -> str:
    return name.lstrip("-").replace("-", "_").lower()


def parse_map_entry(text: str) -> tuple[str, str, tuple[Transform, ...]]:
    """``param=input[:transform[:transform...]]`` -> (param, input, transforms).

    The parameter may itself start with dashes (``--learning_rate=lr:log10``); the first ``=``
    after the parameter name separates it from the input.
    """
    s = text.strip()
    lead = len(s) - len(s.lstrip("-"))
    eq = s.find("=", lead)
    if eq <= lead:
        raise InputError(f"--map {text!r}: expected PARAMETER=INPUT[:TRANSFORM], e.g. --map=--learning_rate=lr:log10")
    param, rest = s[:eq], s[eq + 1:]
    parts = rest.split(":")
    inp = parts[0].strip()
    if not inp:
        raise InputError(f"--map {text!r}: no objective input after '='")
    return param.strip(), inp, tuple(Transform.parse(p) for p in parts[1:] if p.strip())


def _find_param(space: SearchSpace, name: str) -> Parameter | None:
    for p in space.parameters:
        if p.name == name:
            return p
    matches = [p for p in space.parameters if _norm(p.name) == _norm(name)]
    return matches[0] if len(matches) == 1 else None


def _find_input(inputs: Sequence[ObjectiveInput], name: str) -> ObjectiveInput | None:
    for i in inputs:
        if i.name == name:
            return i
    matches = [i for i in inputs if _norm(i.name) == _norm(name)]
    return matches[0] if len(matches) == 1 else None


def _how_to(space: SearchSpace, objective: Objective) -> str:
    params = ", ".join(space.names) or "(none)"
    inputs = ", ".join(i.name for i in objective.inputs) or "(none)"
    example = ""
    if space.parameters and objective.inputs:
        example = f" e.g. --map={space.parameters[0].name}={objective.inputs[0].name}"
    return f"experiment parameters: {params}; objective {objective.name or type(objective).__name__} inputs: {inputs};{example}"


def resolve_mapping(
    space: SearchSpace,
    objective: Objective,
    explicit: Sequence[str] | Mapping[str, str] | None = None,
) -> ParameterMapping:
    """The mapping from ``space`` onto ``objective.inputs`` (explicit, else by name, else by order)."""
    inputs = tuple(objective.inputs)
    if explicit:
        entries = (
            [f"{k}={v}" for k, v in explicit.items()] if isinstance(explicit, Mapping) else list(explicit)
        )
        links: list[InputLink] = []
        for e in entries:
            pname, iname, transforms = parse_map_entry(e)
            p = _find_param(space, pname)
            if p is None:
                raise InputError(f"--map {e!r}: no experiment parameter {pname!r}; {_how_to(space, objective)}")
            i = _find_input(inputs, iname)
            if i is None:
                raise InputError(f"--map {e!r}: objective has no input {iname!r}; {_how_to(space, objective)}")
            if transforms and p.type == ParameterType.CATEGORICAL:
                raise InputError(f"--map {e!r}: a transform needs a numeric parameter, {p.name} is categorical")
            links.append(InputLink(p.name, i.name, transforms))
        missing = [i.name for i in inputs if i.name not in {l.input for l in links}]
        if missing:
            raise InputError(f"--map leaves objective input(s) {', '.join(missing)} unmapped; {_how_to(space, objective)}")
        dup = sorted({l.input for l in links if sum(1 for m in links if m.input == l.input) > 1})
        if dup:
            raise InputError(f"--map maps several parameters onto input(s) {', '.join(dup)}")
        return ParameterMapping(tuple(links), "explicit")
    by_name = []
    for i in inputs:
        p = _find_param(space, i.name)
        if p is None:
            by_name = None
            break
        by_name.append(InputLink(p.name, i.name))
    if by_name is not None:
        return ParameterMapping(tuple(by_name), "name")
    if len(space.parameters) == len(inputs):
        return ParameterMapping(tuple(InputLink(p.name, i.name) for p, i in zip(space.parameters, inputs)), "order")
    raise InputError(
        f"cannot map the experiment's {len(space.parameters)} parameter(s) onto the objective's "
        f"{len(inputs)} input(s) by name or by order; give --map PARAMETER=INPUT[:TRANSFORM] for each input; "
        + _how_to(space, objective)
    )


@dataclass(frozen=True)
class DomainProblem:
    """One way the experiment's space leaves the objective's domain (see :func:`domain_problems`).

    ``kind``: "unmapped" (the parameter feeds no input), "values" (categorical values the input
    does not take), "transform" (a transform undefined on the range) or "range" (the mapped range
    leaves the input's bounds); ``bound``: the feasibleSpace field at fault ("min", "max", "list")
    or "" when there is none.
    """

    parameter: str
    kind: str
    message: str
    bound: str = ""
    input: str = ""


def domain_problems(space: SearchSpace, objective: Objective, mapping: ParameterMapping) -> list[DomainProblem]:
    """Where the experiment's range, once mapped, leaves the objective's domain."""
    out: list[DomainProblem] = []
    used = {link.parameter for link in mapping.links}
    for p in space.parameters:
        if p.name not in used:
            out.append(DomainProblem(p.name, "unmapped",
                                     f"parameter {p.name} is not mapped to any input of objective {objective.name}: "
                                     f"its value cannot change the result (map it with --map, or choose another objective)"))
    for link in mapping.links:
        p = space[link.parameter]
        inp = next(i for i in objective.inputs if i.name == link.input)
        if p.type == ParameterType.CATEGORICAL:
            if inp.type != "categorical":
                bad = [v for v in p.values if not _is_number(v)]
                if bad:
                    out.append(DomainProblem(p.name, "values",
                                             f"parameter {p.name} is categorical with non-numeric values {bad} "
                                             f"but objective input {inp.name} is numeric", "list", inp.name))
            elif inp.values:
                extra = [v for v in p.values if v not in inp.values]
                if extra:
                    out.append(DomainProblem(p.name, "values",
                                             f"parameter {p.name} has values {extra} that objective input {inp.name} "
                                             f"does not know", "list", inp.name))
            continue
        lo, hi = p.bounds
        try:
            ends = [lo, hi]
            for t in link.transforms:
                ends = [t.apply(e) for e in ends]
        except (ValueError, OverflowError):
            out.append(DomainProblem(p.name, "transform",
                                     f"transform of parameter {p.name} is undefined on its range [{p.min}, {p.max}]",
                                     "", inp.name))
            continue
        mlo, mhi = min(ends), max(ends)
        tol = 1e-9 * max(1.0, abs(inp.low), abs(inp.high))
        below, above = mlo < inp.low - tol, mhi > inp.high + tol
        if below or above:
            # The feasibleSpace bound at fault (a decreasing transform swaps them); none when the
            # whole range is outside, or both ends are.
            flipped = ends[0] > ends[1]
            outside = mhi < inp.low - tol or mlo > inp.high + tol
            bound = "" if outside or (below and above) else (
                ("max" if flipped else "min") if below else ("min" if flipped else "max"))
            out.append(DomainProblem(
                p.name, "range",
                f"parameter {p.name} spans [{mlo:g}, {mhi:g}] after mapping, beyond objective input "
                f"{inp.name}'s domain [{inp.low:g}, {inp.high:g}]", bound, inp.name))
    return out


def domain_notes(space: SearchSpace, objective: Objective, mapping: ParameterMapping) -> list[str]:
    """Warnings where the experiment's range, once mapped, leaves the objective's domain."""
    return [d.message for d in domain_problems(space, objective, mapping)]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


__all__ = ["Transform", "InputLink", "ParameterMapping", "DomainProblem", "parse_map_entry", "resolve_mapping",
           "domain_notes", "domain_problems"]
