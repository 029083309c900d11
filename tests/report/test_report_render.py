"""Renderers: Markdown, self-contained HTML, PNG and JUnit from one hand-made report model."""

from __future__ import annotations

import base64
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from katibsim.assertions import evaluate_all
from katibsim.report.build import build_report
from katibsim.report.html import render_html, render_index_html
from katibsim.report.junit import render_junit
from katibsim.report.markdown import render_index_markdown, render_markdown
from katibsim.report.model import Introspection, IntrospectionStep, Provenance
from katibsim.report.png import figure_names, render_png
from katibsim.scenario import scenario_from_dict

from experiment_helpers import minimal_experiment
from rundata_helpers import make_run

EXPERIMENT = minimal_experiment()


def _model(with_intro=True, optimum=2.0):
    sc = scenario_from_dict(
        {
            "name": "demo",
            "description": "A tiny | hand-made scenario.",
            "experiment": EXPERIMENT,
            "objective": "seed-1d",
            "variants": [{"name": "rand", "algorithm": "random"}, {"name": "k", "algorithm": "bo", "sweep": {"kappa": [1, 5]}}],
            "seeds": {"count": 3},
            "target": {"value": 1.0},
            "assertions": [
                {"kind": "invariant", "check": "no-duplicates", "description": "Katib #1039"},
                {"kind": "target", "variant": "k-kappa-5", "seeds": {"atLeast": 3}, "name": "kappa 5 finds it"},
            ],
        }
    )
    runs = {
        "rand": [make_run("rand", i, [0.1 * i, 0.3, 0.2], optimum=optimum) for i in range(3)],
        "k-kappa-1": [make_run("k-kappa-1", i, [0.5, 1.0, 1.1 + 0.01 * i], optimum=optimum) for i in range(3)],
        "k-kappa-5": [make_run("k-kappa-5", i, [0.2, 0.8, 1.9], optimum=optimum) for i in range(3)],
    }
    g = np.linspace(-2, 10, 50)
    intro = None
    if with_intro:
        steps = tuple(
            IntrospectionStep(n, tuple(range(n)), tuple(0.1 * k for k in range(n)), tuple(g), tuple(np.sin(g)), tuple(np.cos(g)),
                              tuple(0.1 + 0 * g), tuple(np.sin(g) + 0.2), 3.0 + n, "UCB")
            for n in (2, 3)
        )
        intro = Introspection("k-kappa-5", 0, "x", steps)
    prov = Provenance("0.1.0", "3.11", {"numpy": "2"}, {}, "s.yaml", "abc", None, "seed-1d", 0, (1, 2, 3), "katibsim compare s.yaml")
    return build_report(sc, runs, evaluate_all(sc, runs), prov, introspection=intro, metric_name="y")


_CACHE: dict = {}


def model_and_images():
    """One rendered model shared by the render and browser tests (rendering takes seconds)."""
    if not _CACHE:
        m = _model()
        _CACHE["m"], _CACHE["images"] = m, render_png(m)
    return _CACHE["m"], _CACHE["images"]


@pytest.fixture(scope="module")
def model():
    return model_and_images()[0]


@pytest.fixture(scope="module")
def images():
    return model_and_images()[1]


def test_png_figures_are_real_pngs(model, images):
    assert list(images) == figure_names(model)
    assert {"curves.png", "final-best.png", "normalized.png", "history.png", "importance.png", "slice.png", "parallel.png",
            "exploration-1-kappa.png", "model-steps.png"} == set(images)
    for data in images.values():
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_png_bytes_are_reproducible(model, images):
    from katibsim.report import png

    assert png._final(model) == images["final-best.png"]


def test_png_without_optimum_draws_values():
    from katibsim.report import png

    m = _model(with_intro=False, optimum=None)
    assert "model-steps.png" not in figure_names(m)
    assert png._curves(m)[:4] == b"\x89PNG"


def test_markdown_has_verdict_tables_and_images(model):
    md = render_markdown(model, image_prefix="img/")
    assert md.startswith("# demo: ✅ PASS (2/2 assertions hold)")
    assert "A tiny \\| hand-made" not in md  # paragraphs are not table cells
    assert "| ✅ PASS | invariant no-duplicates |" in md
    assert "![best so far against trials and simulated time](img/curves.png)" in md
    assert "## Exploration" in md and "| 5 | k-kappa-5 |" in md
    assert "## The model step by step: k-kappa-5, seed #0" in md
    assert "katibsim compare s.yaml" in md
    # every table row has as many cells as its header
    for table in re.findall(r"((?:^\|.*\|\n)+)", md, flags=re.M):
        rows = [r for r in table.strip().split("\n") if not r.startswith("|---")]
        counts = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(counts) == 1, table


def test_html_is_self_contained_and_embeds_every_image(model, images):
    page = render_html(model, images)
    assert page.startswith("<!DOCTYPE html>")
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == len(images)
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert base64.b64decode(srcs[0].split(",", 1)[1]) == images["curves.png"]
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert '<span class="pass">✔ PASS</span>' in page and "✅" not in page


def test_junit_one_testcase_per_assertion_with_failures():
    m = _model()
    failing = _model()
    object.__setattr__(failing.assertions[1], "passed", False)
    xml = render_junit([m, failing])
    root = ET.fromstring(xml)
    assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "1"
    suites = root.findall("testsuite")
    assert [len(s.findall("testcase")) for s in suites] == [2, 2]
    fail = suites[1].findall("testcase")[1].find("failure")
    assert fail is not None and "reached in 3 of 3 seeds" in fail.get("message")


def test_index_pages(model):
    md = render_index_markdown([model, model])
    assert "4/4 assertions hold in 2 scenarios" in md
    page = render_index_html([model])
    assert '<a href="demo/report.html">' in page
