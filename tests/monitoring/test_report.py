"""The HTML report: every section, self-contained, well-formed charts, errors and empty runs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from cairn.core.signals import MonitoringSignal
from cairn.monitoring.history import MonitorHistory
from cairn.monitoring.performance import WindowPerformance
from cairn.monitoring.report import collect, render_report, write_report
from cairn.monitoring.runs import FeatureResult, MonitorRun
from cairn.monitoring.window import Window

DAY = 86_400_000_000
LABELS = ["(-inf, 10]", "(10, 20]", "(20, +inf)", "(missing)"]


def feature(
    name: str, psi: float, band: str, *, kind: str = "numeric", segment: str = ""
) -> FeatureResult:
    return FeatureResult(
        name, kind, "ok", band, band == "drift", 500, psi=psi, ks_p_value=0.01, js_distance=0.1,
        chi2_p_value=0.02, null_share_reference=0.0, null_share_current=0.05,
        labels=LABELS, reference_proportions=[0.3, 0.4, 0.3, 0.0],
        current_proportions=[0.1, 0.3, 0.5, 0.1], segment=segment,
        unseen_categories=["gig<script>"] if kind == "categorical" else [],
    )  # fmt: skip


def perf(day: int) -> WindowPerformance:
    if day < 2:
        return WindowPerformance(
            "judged", 500, 450, 0.9, 0.8, 0.5, metrics={"auc": 0.8 - 0.05 * day, "ks": 0.5,
            "precision": 0.6, "recall": 0.5}, baseline={"auc": 0.83, "ks": 0.5},
        )  # fmt: skip
    return WindowPerformance("immature", 500, 100, 0.2, 0.8, 0.5)


def run(day: int, *, status: str = "ok") -> MonitorRun:
    window = Window("credit", day * DAY, (day + 1) * DAY, (day + 1) * DAY, "as_of")
    if status == "empty":
        return MonitorRun("credit", "m", "1", window, "empty", "Empty window: nothing here.", 0,
                          [], None, [], datetime.now(UTC), 0.0)  # fmt: skip
    features = [
        feature("income", 0.02 + 0.2 * day, "drift" if day == 2 else "stable"),
        feature("job", 0.01, "stable", kind="categorical"),
        FeatureResult("age", "numeric", "error", None, False, 500, error="all values are missing"),
        feature("score", 0.05 * day, "stable", kind="score"),
        feature("income", 0.3, "drift", segment="arm=canary"),
    ]
    signals = [
        MonitoringSignal("drift", "credit", "m", "1", "income", 0.42, 0.25, "drift", window.end)
    ]
    return MonitorRun(
        "credit", "m", "1", window, "ok", "msg", 500, features, perf(day),
        signals if day == 2 else [], datetime.now(UTC), 0.1, segment_column="arm",
        segments={"arm=main": 450, "arm=canary": 50},
    )  # fmt: skip


class _Checker(HTMLParser):
    """Every opened element is closed (void elements aside), and no resource is fetched."""

    VOID = frozenset(
        {"meta", "br", "img", "input", "link", "hr", "rect", "circle", "line", "polyline"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.fetches: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.fetches += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_the_report_has_every_section(tmp_path: Path) -> None:
    history = MonitorHistory("sqlite://", project="credit")
    for day in range(3):
        history.record(run(day))
    path = write_report(history, tmp_path / "out" / "monitor.html")
    html = path.read_text(encoding="utf-8")
    for section in (
        "Deployment credit",
        "Drift by model input",
        "Distributions: reference vs latest window",
        "PSI over time",
        "Score drift",
        "Performance over time",
        "Segments by arm",
    ):
        assert f">{section}<" in html, section
    assert "Drifted</th><td>income" in html and "Band changes" in html
    assert "age: all values are missing" in html  # a column in error is shown, not dropped
    assert "immature" in html and "0.800" in html and "training AUC" in html
    assert "gig&lt;script&gt;" in html and "<script" not in html  # escaped, no scripts
    checker = _Checker()
    checker.feed(html)
    assert checker.stack == [] and checker.fetches == []  # well nested; nothing loaded
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 2 + 2 + 2 + 1  # distributions and PSI (income, job), score x2, perf
    for svg in svgs:
        ET.fromstring(svg)  # each chart is well-formed XML
    assert "<title>(20, +inf): now 50.0%</title>" in html


def test_an_empty_latest_run_and_no_runs_say_so() -> None:
    history = MonitorHistory("sqlite://", project="credit")
    assert "No monitoring runs yet" in render_report(collect(history), project="credit")
    history.record(run(0, status="empty"))
    html = render_report(collect(history), project="credit")
    assert "Latest run #1: Empty window: nothing here." in html
    assert "No run with results yet." in html
    history.record(run(1))
    history.record(run(2, status="empty"))
    (d,) = collect(history)
    assert d.last is not None and d.last.status == "empty" and d.latest is not None
    html = render_report([d], project="credit")
    assert "Empty window" in html and "Drift by model input" in html


def test_names_and_segment_values_from_the_data_are_escaped() -> None:
    evil, quotes = "<script>alert(1)</script>", "arm=a&\"'"
    day = run(0)
    features = [
        *day.features,
        feature(evil, 0.4, "drift", kind="categorical"),
        feature(evil, 0.4, "drift", segment=quotes),
    ]
    signal = MonitoringSignal("drift", "credit", "m", "1", evil, 0.4, 0.25, "drift",
                              day.window.end, segment=quotes)  # fmt: skip
    history = MonitorHistory("sqlite://", project="credit")
    history.record(replace(day, features=features, signals=[signal],
                           segments={**day.segments, quotes: 60}))  # fmt: skip
    html = render_report(collect(history), project="credit")
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert quotes not in html and "arm=a&amp;&#34;&#39;" in html
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert f"drift:{evil}[{quotes}]" in text  # the summary's signals
    assert f"{quotes}60{evil}-" in text  # the segment's row: name, rows, drifted, errors
    assert f"{evil} drift" in text  # a distribution's title and badge
    checker = _Checker()
    checker.feed(html)
    assert checker.stack == []
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        ET.fromstring(svg)
