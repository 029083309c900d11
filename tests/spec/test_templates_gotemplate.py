"""The Go text/template subset: outputs and errors as Go's text/template gives them.

Every expected output below was produced by Go 1.19's text/template on the same input with
Katib's data shape (Experiment, Trial, NameSpace strings and HyperParameters []*{Name, Value}).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.errors import KatibsimError, SpecError
from katibsim.spec.gotemplate import TemplateError, parse, render

HP2 = [{"Name": "--lr", "Value": "0.1"}, {"Name": "--bs", "Value": "32"}]


def data(hps=()):
    return {"Experiment": "exp", "Trial": "exp-abc", "NameSpace": "kubeflow", "HyperParameters": list(hps)}


# (template, hyperparameters, Go's output)
GO_OUTPUTS = [
    ("{{.Trial}}", [], "exp-abc"),
    ("a}}b{{.Experiment}}{{.NameSpace}}", [], "a}}bexpkubeflow"),
    # Trim markers remove all of " \t\r\n" on their side, across lines, and nothing else.
    ("a {{- .Trial -}} b", [], "aexp-abcb"),
    ("a \t\r\n {{- .Trial}} \n b", [], "aexp-abc \n b"),
    ("a\f{{- .Trial}}", [], "a\fexp-abc"),
    ("a\v{{- .Trial -}}\vb", [], "a\vexp-abc\vb"),
    ("x{{.Trial -}}\n\n  \t y", [], "xexp-abcy"),
    ("x {{-\t.Trial\t-}} y", [], "xexp-abcy"),
    ("x {{-\n.Trial\n-}} y", [], "xexp-abcy"),
    # Comments, with and without trim markers.
    ("x {{- /* c */ -}} y", [], "xy"),
    ("x {{/* c */}} y", [], "x  y"),
    ("x {{/* multi\nline */ -}}\n y", [], "x y"),
    # with / range / else.
    ("{{with .HyperParameters}}has{{else}}none{{end}}", [], "none"),
    ("{{with .HyperParameters}}has{{else}}none{{end}}", HP2[:1], "has"),
    ("{{range .HyperParameters}}[{{.Name}}={{.Value}}]{{else}}empty{{end}}", [], "empty"),
    ("{{range .HyperParameters}}[{{.Name}}={{.Value}}]{{else}}empty{{end}}", HP2, "[--lr=0.1][--bs=32]"),
    ("{{with .Trial}}{{.}}!{{end}}", [], "exp-abc!"),
    ("{{with.Trial}}{{.}}{{end}}", [], "exp-abc"),
    ("{{range.HyperParameters}}{{.Name}}{{end}}", HP2[:1], "--lr"),
    # Katib's v1alpha3 idiom.
    (
        'args:\n  - a\n  {{- with .HyperParameters}}\n  {{- range .}}\n  - "{{.Name}}={{.Value}}"\n  {{- end}}\n  {{- end}}\nnext: 1',
        HP2,
        'args:\n  - a\n  - "--lr=0.1"\n  - "--bs=32"\nnext: 1',
    ),
    (
        'args:\n  - a\n  {{- with .HyperParameters}}\n  {{- range .}}\n  - "{{.Name}}={{.Value}}"\n  {{- end}}\n  {{- end}}\nnext: 1',
        [],
        "args:\n  - a\nnext: 1",
    ),
]


@pytest.mark.parametrize("source,hps,expected", GO_OUTPUTS)
def test_output_matches_go(source, hps, expected):
    assert render(source, data(hps)) == expected


# Templates Go refuses (parse or execution error), with a word our message must contain.
GO_ERRORS = [
    ("x {{-.Trial}} y", "trim marker"),  # Go: bad number syntax: "-.T"
    ("x {{.Trial-}} y", "trim marker"),  # Go: bad character U+002D '-'
    ("x {{ /* c */ }} y", "comment"),  # Go: unexpected "/" in command
    ("x {{/* c */ }} y", "comment ends before closing delimiter"),
    ("{{.Missing}}", "can't evaluate field Missing"),
    ("{{.Trial.Name}}", "can't evaluate field Name in type string"),
    ("{{range .Trial}}x{{end}}", "range can't iterate over"),
    ("{{end}}", "unexpected {{end}}"),
    ("{{else}}", "unexpected {{else}}"),
    ("{{with .Trial}}x", "unexpected EOF"),
    ("{{with .Trial}}a{{else}}b{{else}}c{{end}}", "expected end; found {{else}}"),
    ("{{.Trial", "unclosed action"),
    ("{{/* c ", "unclosed comment"),
    ("{{ }}", "missing value for command"),
    ("{{- -}}", "'-'"),
    ("{{with}}x{{end}}", "missing value for with"),
]


@pytest.mark.parametrize("source,needle", GO_ERRORS)
def test_errors_where_go_errors(source, needle):
    with pytest.raises(TemplateError) as info:
        render(source, data(HP2))
    assert needle in str(info.value)


# Constructs Go accepts but katibsim refuses, naming the construct.
UNSUPPORTED = [
    ("{{if .Trial}}x{{end}}", "'if' action"),
    ("{{.Trial | printf \"%s\"}}", "pipeline"),
    ('{{printf "%s" .Trial}}', "function call 'printf'"),
    ("{{$x := .Trial}}", "variable"),
    ("{{range $i, $e := .HyperParameters}}{{end}}", "variable"),
    ("{{template \"x\"}}", "'template' action"),
    ("{{define \"x\"}}y{{end}}", "'define' action"),
    ("{{block \"x\" .}}y{{end}}", "'block' action"),
    ("{{range .HyperParameters}}{{break}}{{end}}", "'break' action"),
    ("{{with .Trial}}a{{else with .NameSpace}}b{{end}}", "'else' with a condition"),
    ('{{"literal"}}', "literal"),
    ("{{(.Trial)}}", "parenthesized"),
    ("{{.Trial .NameSpace}}", "arguments after a field"),
    ("{{with .Trial .NameSpace}}x{{end}}", "arguments after a field"),
]


@pytest.mark.parametrize("source,construct", UNSUPPORTED)
def test_unsupported_constructs_are_named(source, construct):
    with pytest.raises(TemplateError) as info:
        render(source, data(HP2))
    assert construct in info.value.construct
    assert "katibsim supports" in str(info.value)


def test_error_position_and_type():
    source = "kind: Job\nmetadata:\n  name: {{if .Trial}}x{{end}}\n"
    with pytest.raises(TemplateError) as info:
        parse(source, path="spec.trialTemplate.goTemplate.rawTemplate", file="exp.yaml")
    err = info.value
    assert (err.line, err.column) == (3, 9)
    assert isinstance(err, SpecError) and isinstance(err, KatibsimError)
    assert err.errors[0].path == "spec.trialTemplate.goTemplate.rawTemplate"
    assert err.errors[0].file == "exp.yaml"
    assert "line 3, column 9" in err.errors[0].message


def test_execution_error_position():
    with pytest.raises(TemplateError) as info:
        render("a\n  b {{.Trail}}", data())
    assert (info.value.line, info.value.column) == (2, 5)
    assert "Trail" in str(info.value)


def test_printing_a_slice_or_struct_is_refused():
    with pytest.raises(TemplateError, match="printing a slice"):
        render("{{.HyperParameters}}", data(HP2))
    with pytest.raises(TemplateError, match="printing a struct"):
        render("{{range .HyperParameters}}{{.}}{{end}}", data(HP2))


def test_scalars_print_like_go():
    assert render("{{.A}} {{.B}} {{.C}}", {"A": True, "B": 0, "C": "s"}) == "true 0 s"


def test_with_treats_empty_values_as_false_and_rebinds_dot():
    tpl = "{{with .V}}[{{.}}]{{else}}empty{{end}}"
    for empty in ("", 0, False, None, []):
        assert render(tpl, {"V": empty}) == "empty"
    assert render(tpl, {"V": "x"}) == "[x]"
    # A struct is never empty in Go.
    assert render("{{with .V}}yes{{end}}", {"V": {}}) == "yes"


def test_else_branch_keeps_the_outer_dot():
    assert render("{{range .L}}x{{else}}{{.N}}{{end}}", {"L": [], "N": "outer"}) == "outer"


def test_nested_range_and_with():
    src = "{{range .L}}{{with .Sub}}{{range .}}<{{.}}>{{end}}{{end}};{{end}}"
    assert render(src, {"L": [{"Sub": ["a", "b"]}, {"Sub": []}, {"Sub": ["c"]}]}) == "<a><b>;;<c>;"


def test_template_is_reusable():
    t = parse("{{.Trial}}")
    assert t.execute({"Trial": "a"}) == "a"
    assert t.execute({"Trial": "b"}) == "b"


_ws = st.text(alphabet=" \t\r\n\f\vxy-", max_size=8)
_GO_SPACE = " \t\r\n"


@given(left=_ws, right=_ws, ltrim=st.booleans(), rtrim=st.booleans(), inner=st.sampled_from([" ", "\t", "\n", "\r\n", "  "]))
def test_trim_markers_property(left, right, ltrim, rtrim, inner):
    """Go's rule: '{{- ' drops all trailing space/tab/CR/LF of the text before, ' -}}' the leading of the text after."""
    src = left + "{{" + ("-" + inner if ltrim else "") + ".Trial" + (inner + "-" if rtrim else "") + "}}" + right
    expected = (left.rstrip(_GO_SPACE) if ltrim else left) + "exp-abc" + (right.lstrip(_GO_SPACE) if rtrim else right)
    assert render(src, data()) == expected


@given(st.text(max_size=50).filter(lambda s: "{{" not in s))
def test_text_without_actions_is_unchanged(text):
    assert render(text, data()) == text


@settings(max_examples=200)
@given(st.text(alphabet="{}-./* \n\tabTrilwhngeds$|", max_size=40))
def test_never_raises_anything_but_template_error(source):
    try:
        render(source, data(HP2))
    except TemplateError:
        pass
