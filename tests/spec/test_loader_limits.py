"""The YAML/JSON reader's limits: alias bombs (go-yaml's ratio rule), long aliased text, huge integers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.errors import InputError
from katibsim.spec.loader import load_file, load_text
from katibsim.spec.yamlread import (
    MAX_ALIAS_EXPANDED_CHARS,
    ExcessiveAliasing,
    allowed_alias_ratio,
    load_yaml_documents,
)

CORPUS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus"


def laughs(levels: int, width: int = 9) -> str:
    lines = ["root:", f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly_with_its_line():
    with pytest.raises(ExcessiveAliasing, match=r"^b\.yaml:\d+:\d+: YAML document contains excessive aliasing"):
        load_yaml_documents(laughs(9), file="b.yaml")


def test_billion_laughs_under_metadata_of_a_real_experiment(tmp_path):
    with pytest.raises(InputError, match="excessive aliasing"):
        load_file(CORPUS / "billion-laughs.yaml")


def test_ordinary_aliases_and_merge_keys_are_fine():
    text = "base: &b {image: x, cmd: [a, b]}\none: *b\ntwo: {<<: *b, image: y}\n"
    docs = load_yaml_documents(text)
    assert docs[0]["two"] == {"image": "y", "cmd": ["a", "b"]}
    # a few levels of modest expansion stay under go-yaml's ratio (the document is mostly not alias)
    assert load_yaml_documents(laughs(3, width=3))[0]["root"]["l2"][0][0] == ["lol"] * 3


def test_the_ratio_is_go_yamls():
    assert allowed_alias_ratio(1000) == 0.99
    assert allowed_alias_ratio(400_000) == 0.99
    assert allowed_alias_ratio(4_000_000) == pytest.approx(0.10)
    assert allowed_alias_ratio(2_200_000) == pytest.approx(0.99 - 0.89 * 0.5)


def test_many_aliases_of_a_long_string_hit_the_size_bound():
    big = "x" * (MAX_ALIAS_EXPANDED_CHARS // 4)
    text = f"a: &s {big}\n" + "".join(f"k{i}: *s\n" for i in range(5))
    with pytest.raises(ExcessiveAliasing, match="MiB"):
        load_yaml_documents(text)
    # three aliases of it are fine (under the bound)
    assert len(load_yaml_documents(f"a: &s {big}\n" + "".join(f"k{i}: *s\n" for i in range(3)))[0]) == 4


def test_recursive_alias_names_its_line():
    with pytest.raises(InputError, match=r"r\.yaml:2:\d+: recursive YAML alias"):
        load_yaml_documents("a: 1\nb: &x [1, *x]\n", file="r.yaml")


@given(levels=st.integers(1, 12), width=st.integers(1, 12))
@settings(max_examples=30, deadline=None)
def test_any_alias_pyramid_is_read_or_refused_never_expanded_without_bound(levels, width):
    try:
        docs = load_yaml_documents(laughs(levels, width))
    except ExcessiveAliasing:
        return
    assert len(docs[0]["root"]) == levels
    # what is accepted is within go-yaml's limit: at most ~100 decoded nodes per written node
    assert width**levels <= 100 * (levels * width + 10) + 1000


@pytest.mark.parametrize("name", ["huge-int.yaml", "huge-int.json", "huge-int-metadata.json"])
def test_huge_integer_literal_is_an_input_error_with_file_and_line(name):
    with pytest.raises(InputError, match=rf"{name}:\d+.*integer of 5000 digits is too long"):
        load_file(CORPUS / name)


def test_huge_integer_in_yaml_text_and_in_json_text():
    with pytest.raises(InputError, match=r"x\.yaml:2:4: invalid YAML: an integer of 4301 digits"):
        load_text("a: 1\nb: " + "9" * 4301 + "\n", file="x.yaml")
    with pytest.raises(InputError, match=r"x\.json:3: invalid JSON: an integer of 4400 digits"):
        load_text('{"a": 1,\n "c": 2,\n "b": -' + "9" * 4400 + "}", file="x.json")
    # 4300 digits is still a number
    assert load_yaml_documents("b: " + "9" * 4300)[0]["b"] > 0


def test_duplicate_keys_still_refused():
    with pytest.raises(InputError, match="already defined"):
        load_yaml_documents("a: 1\na: 2\n")
    with pytest.raises(InputError, match="duplicate key"):
        load_text('{"a": 1, "a": 2}', file="d.json")
