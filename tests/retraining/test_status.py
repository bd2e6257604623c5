"""`cairn retrain status`: monitoring runs as observations, the policy's state at a time, and the
command on a project with monitoring history (read-only: nothing is recorded)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.core.signals import MonitoringSignal
from cairn.monitoring.history import MonitorHistory
from cairn.monitoring.performance import WindowPerformance
from cairn.monitoring.runs import MonitorRun
from cairn.monitoring.window import Window
from cairn.retraining.decision import Decision
from cairn.retraining.ledger import Ledger
from cairn.retraining.observations import observations
from cairn.retraining.policy import parse_policies
from cairn.retraining.status import policy_status

DAY = 86_400_000_000
MONDAY = 1_773_039_600_000_000  # 2026-03-09 07:00 UTC
runner = CliRunner(env={"COLUMNS": "250"})


def _run(model: str, end: int, drifted: list[str], judged: bool = False) -> MonitorRun:
    signals = [
        MonitoringSignal("drift", "credit", model, "1", f, 0.4, 0.25, "drift", at=end)
        for f in drifted
    ]
    perf = None
    if judged:
        perf = WindowPerformance(
            "judged", 900, 800, 0.9, 0.8, 0.5, {"auc": 0.70}, baseline={"auc": 0.78},
            drops={"auc": 0.08},
        )  # fmt: skip
    return MonitorRun(
        "credit", model, "1", Window("credit", end - DAY, end, end, "as_of"), "ok", "", 100,
        [], perf, signals, datetime.now(UTC), 0.1,
    )  # fmt: skip


def test_monitoring_runs_become_observations_of_the_retrained_model() -> None:
    history = MonitorHistory("sqlite://", project="p")
    history.record(_run("credit-default", MONDAY - DAY, ["income"], judged=True))
    history.record(_run("challenger", MONDAY - DAY // 2, ["debt"]))
    history.record(_run("credit-default", MONDAY, []))
    seen = observations(history, "credit", model="credit-default")
    assert [o.at for o in seen] == [MONDAY - DAY, MONDAY]  # the challenger's run left out
    first, last = seen
    assert [s.subject for s in first.signals] == ["income"]
    assert (first.labeled, dict(first.drops)) == (800, {"auc": 0.08})
    assert (last.signals, last.labeled, dict(last.drops)) == ((), 0, {})
    assert len(observations(history, "credit")) == 3


def test_a_policy_status_shows_cooldown_budget_slot_and_what_would_run() -> None:
    policy = parse_policies(
        {
            "policies": {
                "credit": {
                    "deployment": "credit",
                    "schedule": {"cron": "0 6 * * MON"},
                    "triggers": {"drift": {"min_features": 1, "persistence": 1}},
                    "cooldown": "3d",
                    "budget": {"max_runs": 2, "period": "30d"},
                }
            }
        }
    )["credit"]
    ledger = Ledger("sqlite://", project="p")
    ledger.record(Decision("credit", "manual", "t-1", "run", "asked", at=MONDAY - DAY))
    history = MonitorHistory("sqlite://", project="p")
    history.record(_run("m", MONDAY - 3_600_000_000, ["income"]))
    status = policy_status(
        "credit", policy, now=MONDAY, observations=observations(history, "credit"),
        past=ledger.entries("credit"),
    )  # fmt: skip
    shown = status.to_dict()
    assert shown["next_slot"] == "2026-03-16T06:00:00+00:00"
    assert shown["cooldown_left_s"] == 2 * 86_400  # 3 days after a run a day ago
    assert shown["budget"] == {"used": 1, "max_runs": 2}
    assert shown["last_monitoring"]["signals"] == ["drift:income:drift"]
    assert [e["trigger"] for e in shown["ledger"]] == ["manual"]
    # a manual run a day ago: the first run in flight holds every trigger (nothing recorded)
    assert {d["action"] for d in shown["would_decide"]} <= {"skip"}
    assert len(ledger.entries("credit")) == 1


def test_the_command_shows_each_policy_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: rt\n")
    (tmp_path / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion}\n"
    )
    (tmp_path / "retraining.yaml").write_text(
        "policies:\n  monthly:\n    deployment: credit\n    schedule: {cron: '0 6 1 * *'}\n"
    )
    repo = ["--repo", str(tmp_path)]
    shown = runner.invoke(app, ["retrain", "status", "--json", *repo])
    assert shown.exit_code == 0, shown.output
    [row] = json.loads(shown.stdout)
    assert row["policy"] == "monthly" and row["last_monitoring"] is None
    assert row["next_slot"] is not None and row["ledger"] == []
    table = runner.invoke(app, ["retrain", "status", *repo])
    assert table.exit_code == 0 and "monthly" in table.output
    unknown = runner.invoke(app, ["retrain", "status", "--policy", "nope", *repo])
    assert unknown.exit_code == 2 and "policies: monthly" in unknown.output
