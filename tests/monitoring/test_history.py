"""Monitoring history in the metadata database (SQLite and PostgreSQL): runs, results,
signals, band changes; and the Prometheus gauges read from it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from cairn.core.signals import MonitoringSignal
from cairn.monitoring.gauges import MonitoringCollector
from cairn.monitoring.history import MonitorHistory, results_table
from cairn.monitoring.performance import WindowPerformance
from cairn.monitoring.runs import FeatureResult, MonitorRun
from cairn.monitoring.window import Window

DAY = 86_400_000_000


def result(feature: str, band: str | None, psi: float | None = None, **kw: object) -> FeatureResult:
    status = "error" if band is None else "ok"
    values: dict[str, object] = {"drifted": band == "drift", "rows": 100, "psi": psi}
    values.update(kw)
    return FeatureResult(feature, "numeric", status, band, **values)  # type: ignore[arg-type]


def make_run(
    day: int,
    features: list[FeatureResult],
    *,
    deployment: str = "credit",
    performance: WindowPerformance | None = None,
    status: str = "ok",
) -> MonitorRun:
    window = Window(deployment, day * DAY, (day + 1) * DAY, (day + 1) * DAY, "as_of")
    signals = [
        MonitoringSignal("drift", deployment, "m", "1", f.feature, f.psi or 0.0, 0.25, "drift",
                         (day + 1) * DAY, segment=f.segment or None)
        for f in features if f.drifted
    ]  # fmt: skip
    return MonitorRun(
        deployment, "m", "1", window, status, "msg", 0 if status == "empty" else 100,  # type: ignore[arg-type]
        features, performance, signals, datetime.now(UTC), 0.01,
    )  # fmt: skip


def judged(auc: float, *, degraded: bool) -> WindowPerformance:
    return WindowPerformance(
        "judged", 100, 90, 0.9, 0.8, 0.5, metrics={"auc": auc, "ks": 0.4},
        baseline={"auc": 0.83, "ks": 0.45}, drops={"auc": 0.83 - auc, "ks": 0.05},
        degraded=["auc"] if degraded else [],
    )  # fmt: skip


@pytest.fixture
def history(metadata_url: str, project_name: str) -> MonitorHistory:
    return MonitorHistory(metadata_url, project=project_name)


def test_runs_results_and_signals_round_trip(history: MonitorHistory) -> None:
    features = [
        result("income", "drift", 0.4, labels=["a", "b"], current_proportions=[0.2, 0.8],
               reference_proportions=[0.5, 0.5], unseen_categories=["gig"]),
        result("age", None, error="all values are missing"),
        result("income", "stable", 0.01, segment="arm=canary"),
    ]  # fmt: skip
    stored, _ = history.record(make_run(0, features, performance=judged(0.8, degraded=False)))
    assert stored.run_id is not None
    again = history.get(stored.run_id)
    assert sorted(again.features, key=lambda f: (f.segment, f.feature)) == sorted(
        features, key=lambda f: (f.segment, f.feature)
    )
    assert again.performance == stored.performance and again.signals == stored.signals
    assert again.window == stored.window and again.started_at.tzinfo is not None
    (summary,) = history.runs("credit")
    assert (summary.flagged, summary.errors, summary.signals) == (["income"], ["age"], 1)
    assert history.signals("credit")[0].subject == "income"
    assert history.signals("credit", since=5 * DAY) == []
    with pytest.raises(KeyError, match="No monitoring run"):
        history.get(10**6)


def test_band_changes_against_the_previous_run(history: MonitorHistory) -> None:
    _, first = history.record(
        make_run(0, [result("income", "stable", 0.01), result("job", "monitor", 0.12)])
    )
    assert [(c.subject, c.previous, c.current) for c in first] == [("job", None, "monitor")]
    stored, changes = history.record(
        make_run(
            1,
            [result("income", "drift", 0.4), result("job", "monitor", 0.15), result("age", None)],
            performance=judged(0.7, degraded=True),
        )
    )
    got = {(c.segment, c.subject): (c.previous, c.current, c.worse) for c in changes}
    assert got == {
        ("", "income"): ("stable", "drift", True),
        ("", "age"): (None, "error", True),  # a column that became unreadable
        ("performance", "auc"): (None, "degraded", True),
    }
    assert history.changes(stored.run_id or 0) == sorted(
        changes, key=lambda c: (c.segment, c.subject)
    )
    _, calm = history.record(
        make_run(2, [result("income", "stable", 0.02), result("job", "monitor", 0.11),
                     result("age", "stable", 0.0)], performance=judged(0.82, degraded=False))
    )  # fmt: skip
    back = {(c.subject, c.previous, c.current, c.worse) for c in calm}
    assert back == {
        ("income", "drift", "stable", False),
        ("age", "error", "stable", False),
        ("auc", "degraded", "ok", False),
    }


def test_empty_runs_and_unmeasured_segments_raise_no_changes(history: MonitorHistory) -> None:
    history.record(make_run(0, [result("income", "stable", 0.01)]))
    _, none = history.record(make_run(1, [], status="empty"))
    assert none == []
    _, split = history.record(
        make_run(
            2, [result("income", "stable", 0.01), result("income", "drift", 0.5, segment="arm=b")]
        )
    )
    # the first split by arm: a segment seen for the first time in drift is a change
    assert [(c.segment, c.current) for c in split] == [("arm=b", "drift")]
    _, unsplit = history.record(make_run(3, [result("income", "stable", 0.01)]))
    assert unsplit == []
    assert [r.status for r in history.runs("credit")] == ["ok", "ok", "empty", "ok"]


def test_latest_and_series_per_deployment(history: MonitorHistory) -> None:
    for day in range(3):
        history.record(make_run(day, [result("income", "stable", 0.01 * (day + 1))]))
    history.record(make_run(3, [], status="empty"))
    history.record(make_run(0, [result("x", "drift", 0.9)], deployment="fraud"))
    latest = {r.deployment: r for r in history.latest()}
    assert set(latest) == {"credit", "fraud"}
    assert latest["credit"].results()[0].psi == pytest.approx(0.03)  # the empty run is skipped
    series = history.series("credit")
    assert [r.window.start // DAY for r in series] == [0, 1, 2]
    assert [r.deployment for r in history.latest("fraud")] == ["fraud"]


def test_projects_do_not_see_each_other(metadata_url: str, project_name: str) -> None:
    mine = MonitorHistory(metadata_url, project=project_name)
    other = MonitorHistory(metadata_url, project=project_name + "_other")
    mine.record(make_run(0, [result("income", "drift", 0.5)]))
    assert other.runs() == [] and other.latest() == [] and other.signals() == []


def test_gauges_show_the_latest_results(history: MonitorHistory) -> None:
    history.record(
        make_run(
            0,
            [result("income", "drift", 0.4, null_share_current=0.1), result("age", None)],
            performance=judged(0.8, degraded=False),
        )
    )
    registry = CollectorRegistry()
    registry.register(MonitoringCollector(history.latest, ttl_s=0))
    text = generate_latest(registry).decode()
    for line in (
        'cairn_drift_psi{deployment="credit",feature="income"} 0.4',
        'cairn_drift_band{deployment="credit",feature="income"} 2.0',
        'cairn_drift_error{deployment="credit",feature="age"} 1.0',
        'cairn_drift_null_share{deployment="credit",feature="income"} 0.1',
        'cairn_model_performance{deployment="credit",metric="auc"} 0.8',
        'cairn_label_completeness{deployment="credit"} 0.9',
        'cairn_monitor_signals{deployment="credit"} 1.0',
        "cairn_monitor_up 1.0",
    ):
        assert line in text, line
    assert 'cairn_drift_psi{deployment="credit",feature="age"}' not in text


def test_a_failing_source_does_not_fail_the_scrape() -> None:
    def broken() -> list[MonitorRun]:
        raise ConnectionError("database is down")

    calls: list[int] = []

    def counted() -> list[MonitorRun]:
        calls.append(1)
        return []

    registry = CollectorRegistry()
    registry.register(MonitoringCollector(broken))
    assert "cairn_monitor_up 0.0" in generate_latest(registry).decode()
    cached = MonitoringCollector(counted, ttl_s=60)
    list(cached.collect())
    list(cached.collect())
    assert len(calls) == 1  # one database read per ttl, however often Prometheus scrapes


def test_feature_results_survive_json(history: MonitorHistory) -> None:
    f = result("income", "drift", 0.4, reasons=["psi", "null_share"], unseen_share=0.0)
    assert FeatureResult.from_dict(f.to_dict()) == f
    assert replace(f, status="error").state == "error"


def test_results_stored_before_the_p_values_were_kept_still_read(
    history: MonitorHistory,
) -> None:
    f = result("income", "drift", 0.4, p_value=0.001, p_value_adjusted=0.002, chi2_statistic=9.0)
    stored, _ = history.record(make_run(0, [f]))
    added = ("chi2_statistic", "null_p_value", "p_value", "p_value_adjusted")
    older = {k: v for k, v in f.to_dict().items() if k not in added}
    with history.engine.begin() as conn:
        conn.execute(
            results_table.update()
            .where(results_table.c.run_id == stored.run_id)
            .values(detail=json.dumps(older))
        )
    assert stored.run_id is not None
    (back,) = history.get(stored.run_id).features
    assert (back.p_value, back.p_value_adjusted, back.chi2_statistic) == (None, None, None)
    assert back == replace(f, p_value=None, p_value_adjusted=None, chi2_statistic=None)
