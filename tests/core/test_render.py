"""The render kit: lookup order, escaping, strict names, one inlined stylesheet, lazy import."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import jinja2
import pytest

from cairn.core.charts import grouped_bars, line_chart
from cairn.core.render import environment, render, render_macro


def test_a_capability_template_on_the_shared_layout_with_the_one_stylesheet() -> None:
    html = render("report.html", package="cairn.monitoring", project="p", generated_at="now",
                  deployments=[])  # fmt: skip
    core = environment("cairn.core")
    assert core.loader is not None
    css = core.loader.get_source(core, "cairn.css")[0]
    assert html.startswith("<!DOCTYPE html>") and css.strip() in html
    assert html.count("<style>") == 1 and "<link" not in html and "<script" not in html


def test_several_packages_are_searched_in_order_then_core() -> None:
    both = ("cairn.experiments", "cairn.monitoring")
    assert environment(both) is environment(both)  # cached
    page = render("report.html", package=both, title="t", analysis=None, champion=None)
    assert "Experiment report" in page  # the first package's report.html wins
    section = render_macro("_monitoring.html", "segments", "arm", [], package=both)
    assert "Segments by arm" in section and "<table>" in section


def test_values_are_escaped_and_unknown_names_fail() -> None:
    evil = "<script>alert(1)</script>&\"'"
    assert render("base.html", package="cairn.core", title=evil).count("&lt;script&gt;") == 1
    with pytest.raises(jinja2.UndefinedError, match="title"):
        render("base.html", package="cairn.core")


def test_charts_are_well_formed_svg_with_escaped_titles() -> None:
    bars = grouped_bars(["<a>", "b&c"], [("ref", "#999", [0.2, 0.8]), ("now", "#00f", [0.5])])
    svg = render_macro("_macros.html", "bars", bars, package="cairn.core")
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert titles == ["<a>: ref 20.0%", "<a>: now 50.0%", "b&c: ref 80.0%", "b&c: now 0.0%"]
    chart = line_chart([("<s>", "#00f", [(0, 0.1), (10, 0.4)])], top=0.5, guides=[(0.25, "#f00")])
    html = render_macro("_macros.html", "lines", chart, package="cairn.core")
    assert "&lt;s&gt; 0.400 · 10" in html and "<s>" not in html
    ET.fromstring(html[: html.index("</svg>") + 6])


def test_importing_the_kit_does_not_import_jinja2() -> None:
    code = "import sys, cairn.core.render, cairn.monitoring.report; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
