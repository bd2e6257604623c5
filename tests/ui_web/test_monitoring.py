"""The Monitoring pages: every stored run, and per deployment and model version PSI over time
per input, score drift, performance with label completeness and the signals, with the
numbers the monitoring history holds (:class:`cairn.monitoring.history.MonitorHistory`)."""

from __future__ import annotations

import time
from dataclasses import replace
from html import escape
from pathlib import Path

import pytest

from cairn.app.project import Project
from cairn.core.render import minute, number
from cairn.monitoring.drift import SCORE
from cairn.monitoring.history import MonitorHistory
from cairn.monitoring.runs import thresholds_of
from cairn.quickstart.blank import create_blank_project
from cairn.ui.web import standalone_app
from cairn.ui.web.paging import PAGE_SIZE
from tests.serving._client import TestClient
from tests.ui_web.conftest import Experiment, Full
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells


def history_of(full: Full) -> MonitorHistory:
    return MonitorHistory(full.project.metadata, project=full.project.name)


def test_a_blank_project_has_no_runs_yet(blank_client: TestClient) -> None:
    r = blank_client.get("/ui/monitoring")
    assert r.status_code == 200
    assert "No monitoring runs yet: run cairn monitor run --deployment D" in text(r.text)
    assert '<a href="/ui/monitoring">Monitoring</a>' in r.text


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/ui/monitoring?deployment=nope", 404, "No deployment 'nope'; deployments: customer."),
        ("/ui/monitoring?version=7", 404, "No monitoring run of model version '7'"),
        ("/ui/monitoring/12", 404, "No monitoring run 12 in project 'blank'."),
        ("/ui/monitoring/run-1", 422, "A monitoring run is named by its number; got 'run-1'."),
        ("/ui/monitoring?page=0", 422, "The query parameter 'page' must be a whole number"),
    ],
)
def test_unknown_names_are_404_and_malformed_input_422(
    blank_client: TestClient, url: str, status: int, says: str
) -> None:
    r = blank_client.get(url)
    assert r.status_code == status
    assert says in text(r.text).replace("&#39;", "'")


@pytest.mark.slow
def test_the_runs_table_is_the_history_newest_first(full: Full) -> None:
    runs = history_of(full).runs()
    assert runs, "the monitoring demo stores runs"
    rows = cells(full.client.get("/ui/monitoring").text, "runs")
    assert [r[0] for r in rows] == [f"#{s.run_id}" for s in runs[:PAGE_SIZE]]
    for row, s in zip(rows, runs, strict=False):
        assert row[1:6] == [
            s.deployment,
            f"{s.model_name} v{s.model_version}",
            minute(s.window.end),
            s.status,
            str(s.rows),
        ]
        assert row[6] == (", ".join(s.flagged) or "–")
        assert row[9:] == [str(s.signals), str(s.changes)]
        if s.performance is not None and s.performance.status == "empty":
            assert row[8] == "none matured yet"  # not "0/0 (0%)"
        elif s.performance is not None:
            p = s.performance
            assert row[8] == f"{p.labeled}/{p.predictions} ({p.completeness:.0%})"


def test_a_run_whose_predictions_have_not_matured_says_so(full: Full, tmp_path: Path) -> None:
    # A run before any prediction is old enough for its labels: "none matured yet" with the
    # reason on hover, not "0/0 (0%)". Recorded in a project of its own (the package's
    # projects stay as they are).
    run = history_of(full).get(history_of(full).runs()[0].run_id)
    assert run.performance is not None
    empty = replace(run.performance, status="empty", predictions=0, labeled=0, completeness=0.0)
    create_blank_project(tmp_path / "p")
    with Project.open(tmp_path / "p") as project:
        MonitorHistory(project.metadata, project=project.name).record(
            replace(run, performance=empty)
        )
        with TestClient(standalone_app(project)) as client:
            page = client.get("/ui/monitoring").text
    assert cells(page, "runs")[0][8] == "none matured yet"
    assert f'title="{escape(empty.describe())}"' in page


@pytest.mark.slow
def test_psi_over_time_per_input_with_the_bands_highlighted(full: Full) -> None:
    history = history_of(full)
    [deployment] = {s.deployment for s in history.runs()}
    html = full.client.get(f"/ui/monitoring?deployment={deployment}").text
    series = history.series(deployment, limit=200)
    thresholds = thresholds_of(full.project.settings.monitoring)
    for version in sorted({r.model_version for r in series}):
        runs = [r for r in series if r.model_version == version]
        inputs = [f.feature for f in runs[-1].results() if f.kind != SCORE]
        key = f"{deployment}-v{version}"
        rows = cells(html, f"psi-{key}")
        assert [r[0] for r in rows] == [f"#{r.run_id}" for r in reversed(runs)]
        drifted = 0
        for row, run in zip(rows, reversed(runs), strict=True):
            psi = {f.feature: f for f in run.results()}
            assert row[1] == minute(run.window.end)
            assert row[2:] == [number(psi[f].psi, ".3f") for f in inputs]
            drifted += sum(psi[f].state in ("monitor", "drift") for f in inputs)
        table = html.split(f'id="psi-{key}"')[1].split("</table>")[0]
        highlighted = table.count('<td class="band-monitor">') + table.count(
            '<td class="band-drift">'
        )
        assert drifted > 0 and highlighted == drifted  # the drifted month shows
        edges = thresholds.bands_for(inputs[0])
        assert f"{inputs[0]}" in table and f"{edges[0]:.2f}/{edges[1]:.2f}" in table
        score = cells(html, f"score-{key}")
        assert [r[2] for r in score] == [format(r.score.psi, ".3f") for r in reversed(runs)]
        assert [r[3] for r in score] == [r.score.state for r in reversed(runs)]
        assert "PSI over time" in html and "<polyline" in html


@pytest.mark.slow
def test_performance_with_label_completeness_and_the_signals(full: Full) -> None:
    history = history_of(full)
    [deployment] = {s.deployment for s in history.runs()}
    html = full.client.get(f"/ui/monitoring?deployment={deployment}").text
    series = history.series(deployment, limit=200)
    for version in sorted({r.model_version for r in series}):
        runs = [r for r in series if r.model_version == version]
        key = f"{deployment}-v{version}"
        judged = [r for r in reversed(runs) if r.performance is not None]
        rows = cells(html, f"labels-{key}")
        assert len(rows) == len(judged) > 0
        for row, run in zip(rows, judged, strict=True):
            p = run.performance
            assert p is not None
            assert row[:5] == [
                minute(run.window.end),
                p.status,
                str(p.labeled),
                str(p.predictions),
                f"{p.completeness:.1%}",
            ]
            if p.label_rate and p.label_rate.get("observed_rate") is not None:
                assert row[6] == f"{p.label_rate['observed_rate']:.1%}"
        signals = cells(html, f"signals-{key}")
        expected = [(r.run_id, s) for r in reversed(runs) for s in r.signals]
        assert expected, "the drifted month raises signals"
        assert [(r[0], r[2], r[3], r[5]) for r in signals] == [
            (f"#{i}", s.kind, s.subject, f"{s.value:.4f}") for i, s in expected
        ]


@pytest.mark.slow
def test_one_run_shows_its_columns_signals_and_band_changes(full: Full) -> None:
    history = history_of(full)
    newest = next(s for s in history.runs() if s.signals and s.changes)
    run = history.get(newest.run_id)
    r = full.client.get(f"/ui/monitoring/{newest.run_id}")
    assert r.status_code == 200
    page = text(r.text)
    assert f"Monitoring run #{newest.run_id}" in page
    for f in run.results():
        assert f.feature in page
    assert [(s[0], s[1], s[3]) for s in cells(r.text, "signals")] == [
        (s.kind, s.subject, f"{s.value:.4f}") for s in run.signals
    ]
    drifted = next(f for f in run.results() if f.drifted and f.labels)
    assert cells(r.text, f"bins-{drifted.feature}") == [  # the shares behind its bars
        [label, f"{ref:.1%}", f"{now:.1%}"]
        for label, ref, now in zip(
            drifted.labels, drifted.reference_proportions, drifted.current_proportions, strict=True
        )
    ]
    changes = history.changes(newest.run_id)
    assert [(c[1], c[3]) for c in cells(r.text, "changes")] == [
        (c.subject, c.current) for c in changes
    ]
    assert full.client.get(f"/ui/monitoring/{newest.run_id + 10_000}").status_code == 404


@pytest.mark.slow
def test_filters_by_deployment_and_version(full: Full) -> None:
    history = history_of(full)
    s = history.runs()[0]
    url = f"/ui/monitoring?deployment={s.deployment}&version={s.model_version}"
    rows = cells(full.client.get(url).text, "runs")
    assert [r[0] for r in rows] == [
        f"#{x.run_id}" for x in history.runs(s.deployment) if x.model_version == s.model_version
    ][:PAGE_SIZE]
    assert (
        full.client.get(f"/ui/monitoring?deployment={s.deployment}&version=99").status_code == 404
    )


@pytest.mark.slow
def test_render_times(full: Full) -> None:
    """Prints how long the pages take to render (a record, not a bound)."""
    run = history_of(full).runs()[0].run_id
    for url in ["/ui/monitoring", f"/ui/monitoring/{run}"]:
        full.client.get(url)
        began = time.perf_counter()
        assert full.client.get(url).status_code == 200
        print(f"{url}: {(time.perf_counter() - began) * 1000:.0f} ms")


@pytest.mark.slow
def test_each_model_version_of_an_ab_test_has_its_own_section(experiment: Experiment) -> None:
    """The A/B traffic monitored per group (``cairn monitor run``): the champion's and the
    challenger's runs are drawn apart, each against its own version's reference."""
    runs = {o.run.model_version: o.run for o in experiment.ab.monitored}
    assert set(runs) == {"1", experiment.ab.challenger}
    html = experiment.client.get("/ui/monitoring?deployment=credit").text
    for version, run in runs.items():
        key = f"credit-v{version}"
        assert f'<section id="{key}">' in html
        rows = cells(html, f"psi-{key}")
        assert rows[0][0] == f"#{run.run_id}"  # the newest run of this version only
        inputs = [f for f in run.results() if f.kind != SCORE]
        assert rows[0][2:] == [number(f.psi, ".3f") for f in inputs]  # – when not compared
        assert all(r[0] != f"#{other.run_id}" for other in runs.values() if other is not run
                   for r in rows)  # fmt: skip
        over = [f.feature for f in inputs if f.state in ("monitor", "drift")]
        if over:
            said = text(html.split(f'id="over-{key}"')[1].split("</p>")[0])
            assert all(name in said for name in over)
    one = experiment.client.get(f"/ui/monitoring?version={experiment.ab.challenger}").text
    assert [r[0] for r in cells(one, "runs")] == [f"#{runs[experiment.ab.challenger].run_id}"]
    assert 'id="credit-v1"' not in one
