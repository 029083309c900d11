"""Katib filters are Go regexps run by RE2: Go's syntax and refusals, FindAllStringSubmatch."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim.collectors.goregex import (
    DEFAULT_FILTER,
    GoRegexError,
    compile_go,
    find_all_submatch,
    has_two_subexpressions,
)


def groups(pattern: str, text: str) -> list[list[str]]:
    return [g for _, _, g in find_all_submatch(compile_go(pattern), text)]


def test_default_filter_find_all_matches_go():
    # Expected output from Go's regexp on the same input.
    assert groups(DEFAULT_FILTER, "epoch 1 accuracy=0.9 loss = 1e-3 Validation-accuracy=.98 x=abc") == [
        ["accuracy=0.9", "accuracy", "0.9", ".9", ""],
        ["loss = 1e-3", "loss", "1e-3", "", "e-3"],
        ["Validation-accuracy=.98", "Validation-accuracy", ".98", ".98", ""],
        ["x=", "x", "", "", ""],
    ]


def test_empty_matches_step_like_go():
    # Go: ["ab", "c"]; Python's finditer also yields the empty matches.
    assert groups(r"\w*", "ab c") == [["ab"], ["c"]]
    assert [m.group(0) for m in re.finditer(r"\w*", "ab c")] == ["ab", "", "c", ""]


@pytest.mark.parametrize(
    "pattern,reason",
    [
        (r"(?=x)(a)(b)", "(?="),
        (r"(a)\1", r"\1"),
        (r"a**", "invalid nested repetition operator: `**`"),
        (r"a*+", "nested repetition"),
        (r"a{2}*", "nested repetition"),
        (r"\Z", r"\Z"),
        (r"\e", r"\e"),
        (r"a{1001}", "invalid repeat count: `{1001}`"),
        (r"(a", "missing closing ): `(a`"),
        (r"*", "missing argument to repetition operator: `*`"),
        (r"(?P=n)", "invalid or unsupported Perl syntax"),
        (r"[[:foo:]]", "[:foo:]"),
        (r"(a", "missing"),
    ],
)
def test_go_rejects(pattern, reason):
    with pytest.raises(GoRegexError) as info:
        compile_go(pattern)
    assert info.value.katib_rejects
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "pattern,text,expected",
    [
        (r"a{,3}", "a{,3}", ["a{,3}"]),  # a literal in Go, a repetition in Python
        (r"([[:alpha:]]+)=([[:digit:].]+)", "acc=0.5", ["acc=0.5"]),
        (r"\Q.*\E", "x.*y", [".*"]),
        (r"(?<n>acc)", "acc", ["acc"]),
        (r"x\z", "x", ["x"]),
        (r"a\sb", "a\x0bb", []),  # Go's \s has no vertical tab
        (r"\w+", "héllo", ["h", "llo"]),  # ASCII \w
        (r"\12", "\n", ["\n"]),  # octal
        (r"[]a]+", "]a]", ["]a]"]),
    ],
)
def test_go_meaning_is_kept(pattern, text, expected):
    assert [g[0] for g in groups(pattern, text)] == expected


def test_unicode_classes_and_ungreedy_flag_work_as_in_go():
    assert groups(r"(\pL+)=(\d+)", "é=1 x=2") == [["é=1", "é", "1"], ["x=2", "x", "2"]]
    assert [g[0] for g in groups(r"(?U)a+", "aaa")] == ["a", "a", "a"]
    assert [g[0] for g in groups(r"[[:^digit:]]+", "ab1c")] == ["ab", "c"]


def test_positions_are_characters_even_after_non_ascii_text():
    found = find_all_submatch(compile_go(r"(\w+)=(\d)"), "é é x=1 ü y=2")
    assert [(s, e) for s, e, _ in found] == [(4, 7), (10, 13)]


def test_go_refuses_the_one_byte_escape_that_cpp_re2_accepts():
    with pytest.raises(GoRegexError, match=r"invalid escape sequence: `\\C`") as info:
        compile_go(r"(a)\C(b)")
    assert info.value.katib_rejects
    assert groups(r"\Q\C\E", "x\\Cy") == [["\\C"]]  # quoted, it is a literal


def test_catastrophic_filter_runs_in_linear_time_on_a_long_line():
    # (.*)(.*)(.*)(.*)=(y) backtracks for ever in a backtracking engine; RE2 answers at once.
    line = "x" * 5000 + "=" + "z" * 5000
    assert groups(r"(.*)(.*)(.*)(.*)=(y)", line) == []
    assert groups(r"(a|aa)*b", "a" * 10000) == []


def test_two_subexpressions_check_is_katibs_loose_one():
    assert has_two_subexpressions(r"(\w+)=(\d+)")
    assert has_two_subexpressions(r"(?:x)(?:y)")  # passes Katib's check, yet has no groups
    assert not has_two_subexpressions(r"(\w+)=\d+")


@given(st.text(alphabet="ab=.-+|eE019 \t_x", max_size=40))
def test_default_filter_never_matches_empty_so_finditer_agrees(text):
    rx = compile_go(DEFAULT_FILTER)
    ours = [(s, e) for s, e, _ in find_all_submatch(rx, text)]
    assert ours == [m.span() for m in rx.compiled.finditer(text.encode())]
