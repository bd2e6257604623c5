"""The HTML report: self-contained (no scripts, no remote assets), escaped, plots that parse."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from html import unescape
from pathlib import Path

from cairn.experiments.analysis import analyze
from cairn.experiments.champion import compare_champion
from cairn.experiments.metrics import BUILTIN_METRICS, Metric
from cairn.experiments.report import interval_svg, render_html, write_html
from cairn.serving.log_reader import connect
from tests.experiments._log import START, write_log

AS_OF = START + timedelta(days=40)


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    write_log(tmp_path, seed=4, units=600)
    metrics = [
        BUILTIN_METRICS["approval_rate"],
        BUILTIN_METRICS["default_rate"],  # 90d window: immature in this 40-day log
        replace(BUILTIN_METRICS["bad_rate_among_approved"], maturity=0),
        BUILTIN_METRICS["latency_ms"],
        Metric("tricky", "mean", "score", description="<b>&</b>"),
    ]  # fmt: skip
    with connect(tmp_path) as con:
        analysis = analyze(con, "credit", metrics, as_of=AS_OF, segment="features->>'region'",
                           weights={"control": 1, "treatment": 1})  # fmt: skip
        champion = compare_champion(con, "credit", as_of=AS_OF)
    path = write_html(tmp_path / "out" / "report.html", analysis, champion)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert set(re.findall(r"https?://[^'\" ]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html and "<b>&</b>" not in html
    for name in ("approval_rate", "default_rate", "latency_ms", "Segments", "Sample-ratio check"):
        assert name in html
    assert "immature: arm control has no mature units (older than 90d) yet" in html
    assert "Recommendation:" in html and "Reliability" in html
    svgs = _svgs(html)
    assert len(svgs) >= 5 and all(s.tag.endswith("svg") for s in svgs)


def test_one_sided_intervals_run_to_the_edge() -> None:
    svg = interval_svg([("guard", 0.05, 0.01, math.inf, "#c00"), ("bad", math.nan, 0, 0, "#000")])
    root = ET.fromstring(svg)
    lines = [e for e in root.iter() if e.tag.endswith("line") and e.get("stroke") == "#c00"]
    assert float(lines[0].get("x2") or 0) == 620.0  # the right edge of the plot
    assert "&#9654;" in svg or "\u25b6" in ET.tostring(root, encoding="unicode")


def test_report_of_a_single_arm_says_not_enough_data(tmp_path: Path) -> None:
    write_log(tmp_path, seed=5, units=30, arms=("main",), with_shadow=False)
    with connect(tmp_path) as con:
        analysis = analyze(con, "credit", [BUILTIN_METRICS["approval_rate"]], as_of=AS_OF)
    html = render_html(analysis)
    assert "not enough data: only arm 'main' has units" in _text(html)


def test_values_from_the_data_are_escaped(tmp_path: Path) -> None:
    write_log(tmp_path, seed=4, units=600)
    with connect(tmp_path) as con:
        analysis = analyze(con, "credit", [BUILTIN_METRICS["approval_rate"]], as_of=AS_OF,
                           segment="features->>'region'")  # fmt: skip
        champion = compare_champion(con, "credit", as_of=AS_OF)
    evil, quotes = "<script>alert(1)</script>", "a&\"'"
    (metric,) = analysis.metrics
    assert metric.segments
    metric = replace(
        metric,
        comparisons=[replace(c, arm=evil) for c in metric.comparisons],
        segments=[replace(c, segment=quotes) for c in metric.segments],
    )
    analysis = replace(
        analysis, deployment=evil, arms=[replace(a, arm=evil) for a in analysis.arms],
        metrics=[metric],
    )  # fmt: skip
    champion = replace(
        champion,
        champion=replace(champion.champion, model=evil),
        challenger=replace(champion.challenger, model=quotes),
    )
    html = render_html(analysis, champion)
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert quotes not in html and "a&amp;&#34;&#39;" in html
    text = _text(html)
    assert f"Champion {evil} vs challenger {quotes}" in text
    assert f"{quotes} · {metric.segments[0].arm}" in text  # a segment's row and interval label
    assert all(s.tag.endswith("svg") for s in _svgs(html))


def _text(html: str) -> str:
    """What a reader sees: the text without tags, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", "", html))
