"""Reading YAML and JSON text safely: duplicate keys refused, alias bombs and huge integers stopped.

Kubernetes decodes manifests with ``sigs.k8s.io/yaml`` on top of go-yaml, which refuses a
document whose alias expansion dominates it ("document contains excessive aliasing", the fix
for CVE-2019-11253). katibsim applies the same rule before constructing any Python object, so a
"billion laughs" file of a few hundred bytes is refused at once instead of expanding to
gigabytes later (``show``, ``validate`` and the model all walk the expanded data):

- every node is counted as it would be *decoded*, i.e. with each alias expanded again; nodes
  reached through an alias are *alias nodes*;
- with more than 100 alias nodes and more than 1000 decoded nodes, the share of alias nodes may
  be at most 99 % up to 400,000 decoded nodes, falling linearly to 10 % at 4,000,000 and beyond
  (go-yaml's ``allowedAliasRatio``), so expansion can multiply a document by about 100 at most;
- katibsim adds a bound on *size*: the text reached through aliases may not exceed
  :data:`MAX_ALIAS_EXPANDED_CHARS` (3 MiB, the Kubernetes API server's request limit; etcd
  stores at most 1.5 MiB per object, so no Experiment Katib could hold is refused). It stops a
  few aliases of one very long string, which the node ratio does not see.

Integers: Python refuses to convert a literal of more than 4,300 digits (its guard against
quadratic conversion); such a literal is an :class:`~katibsim.errors.InputError` naming the file
and line here, never a crash. Go could not hold it either (int64 or float64).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

from katibsim.errors import InputError

# go-yaml v2/v3 decode.go: alias_ratio_range_low / _high.
ALIAS_RATIO_RANGE_LOW = 400_000
ALIAS_RATIO_RANGE_HIGH = 4_000_000
MAX_ALIAS_EXPANDED_CHARS = 3 * 1024 * 1024
# Python's default sys.get_int_max_str_digits() (3.11+); read at call time in case it was changed.
_DEFAULT_INT_DIGITS = 4300


class ExcessiveAliasing(InputError):
    """A YAML document whose alias expansion is out of proportion to its size."""


def allowed_alias_ratio(decode_count: int) -> float:
    """go-yaml's ``allowedAliasRatio``: the share of decoded nodes that may come from aliases."""
    if decode_count <= ALIAS_RATIO_RANGE_LOW:
        return 0.99
    if decode_count >= ALIAS_RATIO_RANGE_HIGH:
        return 0.10
    span = ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW
    return 0.99 - 0.89 * ((decode_count - ALIAS_RATIO_RANGE_LOW) / span)


def check_aliases(root: yaml.Node, *, file: str) -> None:
    """Walk ``root`` as a decoder would (aliases expanded) and refuse excessive aliasing.

    PyYAML's composer gives an alias the very node object of its anchor; the first time a node
    is reached in document order is its definition (YAML anchors precede their aliases), every
    later time is an alias. The walk is iterative and stops as soon as a limit is crossed, so
    its cost is bounded by the limits, not by the expansion.
    """
    decode_count = 0
    alias_count = 0
    alias_chars = 0
    defined: set[int] = set()
    active: set[int] = set()  # the nodes on the path from the root: a node inside itself is a loop
    stack: list[tuple[yaml.Node, bool, bool]] = [(root, False, False)]
    while stack:
        node, in_alias, leaving = stack.pop()
        if leaving:
            active.discard(id(node))
            continue
        if id(node) in active:
            raise ExcessiveAliasing(
                f"{_where(file, node)}: recursive YAML alias: the anchor's value contains itself "
                "(Kubernetes' YAML decoder refuses it; JSON cannot hold it)"
            )
        if not in_alias and id(node) in defined:
            in_alias = True
        defined.add(id(node))
        decode_count += 1
        if in_alias:
            alias_count += 1
            if isinstance(node, yaml.ScalarNode):
                alias_chars += len(node.value) + 1
        if alias_count > 100 and decode_count > 1000 and alias_count / decode_count > allowed_alias_ratio(decode_count):
            raise ExcessiveAliasing(
                f"{_where(file, node)}: YAML document contains excessive aliasing ({alias_count} of the first "
                f"{decode_count} decoded nodes come from aliases; Kubernetes' YAML decoder refuses such a document)"
            )
        if alias_chars > MAX_ALIAS_EXPANDED_CHARS:
            raise ExcessiveAliasing(
                f"{_where(file, node)}: YAML aliases expand to more than {MAX_ALIAS_EXPANDED_CHARS // (1024 * 1024)} MiB "
                "of text (more than the Kubernetes API server accepts in one request)"
            )
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            active.add(id(node))
            stack.append((node, in_alias, True))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, in_alias, False) for child in reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.append((value, in_alias, False))
                stack.append((key, in_alias, False))


def _where(file: str, node: yaml.Node) -> str:
    mark = node.start_mark
    return f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file


def _digits_limit() -> int:
    get = getattr(sys, "get_int_max_str_digits", None)
    return get() if get is not None else _DEFAULT_INT_DIGITS


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (as kubectl's decoder does) and huge integers."""


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    # Duplicates are looked for among the mapping's own keys: a key that overrides one brought in
    # by a merge key (``<<: *base``) is the point of merging, not a duplicate.
    own = [key_node for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge"]
    seen: dict[Any, yaml.Node] = {}
    for key_node in own:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key; the base constructor reports it properly
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f'mapping key "{key}" already defined', key_node.start_mark
            )
        seen[key] = key_node
    loader.flatten_mapping(node)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_int(loader: StrictLoader, node: yaml.ScalarNode) -> int:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        digits = sum(ch.isdigit() for ch in node.value)
        raise yaml.constructor.ConstructorError(
            None, None,
            f"an integer of {digits} digits is too long to read (at most {_digits_limit()}; Katib's int32, int64 "
            "and float64 fields cannot hold it either)",
            node.start_mark,
        ) from None


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml_documents(text: str, *, file: str = "<string>") -> list[Any]:
    """Every document of a YAML stream, alias-checked before construction.

    Raises InputError naming the file and line for a syntax error, a duplicate key, excessive
    aliasing, an over-long integer or nesting too deep to read.
    """
    loader: StrictLoader | None = None
    docs: list[Any] = []
    try:
        loader = StrictLoader(text)
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            check_aliases(node, file=file)
            docs.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file
        what = err.problem or str(err)
        context = f" ({err.context})" if err.context and err.problem else ""
        raise InputError(f"{where}: invalid YAML: {what}{context}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{file}: invalid YAML: {err}") from None
    except RecursionError:
        raise InputError(f"{file}: nesting too deep to read") from None
    finally:
        if loader is not None:
            loader.dispose()
    return docs


class _JsonDuplicateKey(InputError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _JsonDuplicateKey(f'duplicate key "{k}" in a JSON object')
        out[k] = v
    return out


class _HugeInt(ValueError):
    def __init__(self, literal: str):
        super().__init__(literal)
        self.literal = literal


def _json_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _HugeInt(text) from None


def load_json(text: str, *, file: str = "<string>") -> Any:
    """``json.loads`` with duplicate keys refused and over-long integers reported at their line.

    Raises json.JSONDecodeError for a syntax error (the caller decides whether to try YAML) and
    InputError for the rest.
    """
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
    except _HugeInt as err:
        at = text.find(err.literal)
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        where = f"{file}:{line}" if line else file
        raise InputError(
            f"{where}: invalid JSON: an integer of {len(err.literal.lstrip('-'))} digits is too long to read "
            f"(at most {_digits_limit()}; Katib's int32, int64 and float64 fields cannot hold it either)"
        ) from None
    except _JsonDuplicateKey as err:
        raise InputError(f"{file}: invalid JSON: {err}") from None
    except RecursionError:
        raise InputError(f"{file}: nesting too deep to read") from None
