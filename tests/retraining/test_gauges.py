"""Retraining gauges: each policy's slot, cooldown, budget, in-flight run, ledger states and
latest decisions from a real SQLite ledger; a failing source does not fail the scrape; a
project without retraining.yaml shows only ``cairn_retraining_up``; ``cairn serve`` exposes
them on /metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from cairn.app import Project
from cairn.app.server import build_app
from cairn.core.errors import DataError
from cairn.monitoring.history import MonitorHistory
from cairn.monitoring.runs import MonitorRun
from cairn.monitoring.window import Window
from cairn.retraining.decision import Decision
from cairn.retraining.entry import STATES, State
from cairn.retraining.gauges import RetrainingCollector, retraining_collector
from cairn.retraining.ledger import Ledger
from cairn.retraining.status import PolicyReading, project_readings, project_status
from tests.rollouts._rollout_project import rollout_project
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

DAY = 86_400_000_000
MONDAY = 1_773_039_600_000_000  # 2026-03-09 07:00 UTC
LAST = 'cairn_retraining_last_decision_seconds{{action="{}",policy="monthly",trigger="{}"}}'
POLICIES = """\
policies:
  monthly:
    deployment: credit
    schedule: {cron: '0 6 1 * *'}
    cooldown: 3d
    budget: {max_runs: 2, period: 30d}
  on-drift:
    deployment: credit
    triggers:
      drift: {min_features: 1, persistence: 1}
"""


def _scrape(collector: RetrainingCollector) -> list[str]:
    registry = CollectorRegistry()
    registry.register(collector)
    return [
        line for line in generate_latest(registry).decode().splitlines() if not line.startswith("#")
    ]


def _project(root: Path, policies: str | None = POLICIES) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cairn.yaml").write_text("project: rt\n")
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion}\n"
    )
    if policies is not None:
        (root / "retraining.yaml").write_text(policies)
    return Project.open(root)


def _ledger(project: Project) -> Ledger:
    """monthly: a run gated 2 days ago (in flight), a skip, a run that failed 10 days ago;
    on-drift: nothing."""
    ledger = Ledger(project.metadata, project=project.name)
    old = ledger.record(
        Decision("monthly", "schedule", "2026-02-27", "run", "slot", at=MONDAY - 10 * DAY)
    )
    ledger.advance(old, "failed", reason="training crashed")
    run = ledger.record(Decision("monthly", "manual", "t-1", "run", "asked", at=MONDAY - 2 * DAY))
    steps: tuple[State, ...] = ("training", "trained", "gated")
    for state in steps:
        run = ledger.advance(run, state)
    ledger.record(Decision("monthly", "manual", "t-2", "skip", "in flight", at=MONDAY - DAY))
    return ledger


def test_the_gauges_follow_the_ledger_and_the_policy(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    _ledger(project)
    collector = RetrainingCollector(lambda: project_readings(project, now=MONDAY), ttl_s=0)
    lines = _scrape(collector)
    got = dict(line.rsplit(" ", 1) for line in lines)
    april = datetime(2026, 4, 1, 6, tzinfo=UTC).timestamp()
    expected = {
        'cairn_retraining_next_slot_seconds{deployment="credit",policy="monthly"}': april,
        'cairn_retraining_cooldown_seconds{policy="monthly"}': 86_400,  # 3d after 2 days ago
        'cairn_retraining_cooldown_seconds{policy="on-drift"}': 0,
        'cairn_retraining_budget_used{policy="monthly"}': 2,
        'cairn_retraining_budget_max{policy="monthly"}': 2,
        'cairn_retraining_in_flight{policy="monthly"}': 1,
        'cairn_retraining_in_flight{policy="on-drift"}': 0,
        'cairn_retraining_entries{policy="monthly",state="gated"}': 1,
        'cairn_retraining_entries{policy="monthly",state="failed"}': 1,
        'cairn_retraining_entries{policy="monthly",state="skipped"}': 1,
        'cairn_retraining_entries{policy="monthly",state="decided"}': 0,
        LAST.format("run", "manual"): (MONDAY - 2 * DAY) / 1e6,
        LAST.format("skip", "manual"): (MONDAY - DAY) / 1e6,
        LAST.format("run", "schedule"): (MONDAY - 10 * DAY) / 1e6,
        "cairn_retraining_up": 1,
    }
    for sample, value in expected.items():
        assert float(got[sample]) == pytest.approx(value), sample
    states = [ln for ln in lines if ln.startswith("cairn_retraining_entries{")]
    assert len(states) == 2 * len(STATES)  # every state of each policy, 0s included
    # no schedule: no slot; no decision yet: no last decision
    assert not any('policy="on-drift"' in ln for ln in lines if "next_slot" in ln)
    assert not any('policy="on-drift"' in ln for ln in lines if "last_decision" in ln)


def test_the_reading_counts_the_whole_ledger_not_the_latest_five(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    ledger = _ledger(project)
    for i in range(6):  # six more skips while the run is in flight
        ledger.record(Decision("monthly", "manual", f"s-{i}", "skip", "busy", at=MONDAY - DAY + i))
    [monthly, _] = project_readings(project, now=MONDAY)
    assert isinstance(monthly, PolicyReading)
    assert len(monthly.status.ledger) == 5 and all(
        e.state == "skipped" for e in monthly.status.ledger
    )
    assert monthly.in_flight and monthly.states["gated"] == 1 and monthly.states["skipped"] == 7
    [only] = project_status(project, "on-drift", now=MONDAY)
    assert only.policy == "on-drift" and only.next_slot is None
    with pytest.raises(DataError, match="--policy 'nope' is not in retraining.yaml; policies: "
                                        "monthly, on-drift."):  # fmt: skip
        project_status(project, "nope")


def test_the_monitoring_runs_of_the_served_model_are_read(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    history = MonitorHistory(project.metadata, project=project.name)
    for model in ("credit-default", "challenger"):
        end = MONDAY - DAY
        history.record(MonitorRun(
            "credit", model, "1", Window("credit", end - DAY, end, end, "as_of"), "ok", "", 100,
            [], None, [], datetime.now(UTC), 0.1,
        ))  # fmt: skip
    [monthly, _] = project_status(project, now=MONDAY)
    assert monthly.last_observation is not None
    run_ids = {r.run_id: r.model_name for r in history.series("credit")}
    assert run_ids[monthly.last_observation.run_id] == "credit-default"


def test_a_failing_source_sets_up_to_zero_and_answers_are_cached() -> None:
    def broken() -> list[PolicyReading]:
        raise ConnectionError("database is down")

    calls: list[int] = []

    def counted() -> list[PolicyReading]:
        calls.append(1)
        return []

    assert _scrape(RetrainingCollector(broken)) == ["cairn_retraining_up 0.0"]
    cached = RetrainingCollector(counted, ttl_s=60)
    list(cached.collect())
    list(cached.collect())
    assert len(calls) == 1  # one database read per ttl, however often Prometheus scrapes


def test_a_project_without_policies_shows_only_up(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", policies=None)
    assert _scrape(retraining_collector(project)) == ["cairn_retraining_up 1.0"]
    assert not (tmp_path / "p" / ".cairn" / "metadata.db").exists()  # nothing was read
    (tmp_path / "p" / "retraining.yaml").write_text("policies: {nope: {}}\n")
    assert _scrape(retraining_collector(project, ttl_s=0)) == ["cairn_retraining_up 0.0"]


def test_the_server_exposes_the_gauges(tmp_path: Path, mlflow_template: Path) -> None:
    served = rollout_project(tmp_path / "served", mlflow_template)
    project = Project.open(served)
    with TestClient(build_app(served)) as client:
        assert "cairn_retraining_up 1.0" in client.get("/metrics").text
        assert "cairn_retraining_in_flight{" not in client.get("/metrics").text
    (served / "retraining.yaml").write_text(POLICIES)
    _ledger(project)
    with TestClient(build_app(served)) as client:
        text = client.get("/metrics").text
    assert 'cairn_retraining_in_flight{policy="monthly"} 1.0' in text
    assert 'cairn_retraining_entries{policy="monthly",state="gated"} 1.0' in text
    assert 'cairn_retraining_budget_max{policy="monthly"} 2.0' in text
    assert "cairn_retraining_up 1.0" in text and "cairn_monitor_up 1.0" in text
