"""The backtest of a retraining policy on a small synthetic project whose inputs drift at a
known time: when the policy retrains (persistence, cooldown, budget on the simulated clock),
the three trajectories, determinism, nothing written, and the command."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn import Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.app.project import Project
from cairn.cli.main import app
from cairn.core.errors import DataError
from cairn.core.timeutil import to_micros
from cairn.retraining import parse_policies
from cairn.retraining.backtest import backtest
from cairn.retraining.backtest_data import load_history
from cairn.retraining.backtest_model import fit_at
from cairn.retraining.backtest_replay import DAY
from cairn.retraining.backtest_report import BacktestReport
from cairn.training import TrainConfig

runner = CliRunner(env={"COLUMNS": "200"})
HISTORY = datetime(2025, 1, 1, tzinfo=UTC)
START = datetime(2025, 4, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
DRIFT = START + timedelta(days=90)  # 2025-06-30: the 3rd evaluation; [06-30, 07-30) drifted
ROWS = 3600

TRAIN = """\
model_name: credit-default
entities: SELECT customer_id, event_timestamp, defaulted FROM applications
label: defaulted
features: [profile:income, profile:debt, profile:home, profile:age]
model: {num_boost_round: 20, threads: 1, params: {num_leaves: 7, min_data_in_leaf: 20}}
reference: {sample: 200}
"""
REFUSE = "gates: {metric_floors: {auc: 0.999}}"  # no candidate passes: the old model stays
POLICIES = f"""\
policies:
  drift:
    deployment: credit
    triggers: {{drift: {{kinds: [drift, score_drift], min_features: 2, persistence: 2}}}}
    cooldown: 0s
    data_window: {{lookback: 90d}}
    gates: {{max_loss: {{auc: 0.02}}}}
    promotion: {{shadow: {{min_predictions: 100, min_days: 0}}}}
  cooldown:
    deployment: credit
    triggers: {{drift: {{min_features: 2, persistence: 1}}}}
    cooldown: 60d
    data_window: {{lookback: 90d}}
    {REFUSE}
  budget:
    deployment: credit
    triggers: {{drift: {{min_features: 2, persistence: 1}}}}
    cooldown: 0s
    budget: {{max_runs: 2, period: 90d}}
    data_window: {{lookback: 90d}}
    {REFUSE}
"""


def _data(root: Path) -> None:
    """Applications over 2025 whose income and debt move at DRIFT (the default rate and the
    risk behind the label do not: a model that learnt the old scale ranks worse)."""
    rng = np.random.default_rng(20261126)
    applied = HISTORY + pd.to_timedelta(np.sort(rng.integers(0, 365 * 86400, ROWS)), unit="s")
    moved = np.asarray(applied >= pd.Timestamp(DRIFT))
    risk = rng.normal(0, 1, ROWS)
    income = np.exp(7 - 0.5 * risk + rng.normal(0, 0.2, ROWS)) * np.where(moved, 0.4, 1.0)
    debt = np.maximum(0, 400 + 250 * risk + rng.normal(0, 80, ROWS)) + np.where(moved, 900, 0)
    defaulted = (rng.random(ROWS) < 1 / (1 + np.exp(1.0 - 1.6 * risk))).astype(np.int64)
    ids = np.arange(1, ROWS + 1, dtype=np.int64)
    (root / "data").mkdir(parents=True)
    pd.DataFrame(
        {"customer_id": ids, "event_timestamp": applied, "defaulted": defaulted}
    ).to_parquet(root / "data" / "applications.parquet", index=False)
    pd.DataFrame(
        {
            "customer_id": ids,
            "event_timestamp": applied - timedelta(days=1),
            "income": income.round(),
            "debt": debt.round(),
            "home": rng.choice(["owner", "rent", "parents"], ROWS),
            "age": rng.integers(20, 70, ROWS),
        }
    ).to_parquet(root / "data" / "profiles.parquet", index=False)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic project: data, definitions applied, train.yaml, one deployment, three
    policies (no MLflow store: a backtest never needs one)."""
    root = tmp_path_factory.mktemp("backtest") / "credit"
    root.mkdir()
    (root / "cairn.yaml").write_text("project: credit\n")
    _data(root)
    customer = Entity(name="customer", join_keys=["customer_id"])
    view = FeatureView(
        name="profile",
        entities=[customer],
        source=FileSource(name="profiles", path="data/profiles.parquet"),
        schema=[
            Field(name="income", dtype="float64"),
            Field(name="debt", dtype="float64"),
            Field(name="home", dtype="string"),
            Field(name="age", dtype="int64"),
        ],
    )
    applications = FileSource(name="applications", path="data/applications.parquet")
    FeatureStore(root).apply([customer, applications, view])
    (root / "train.yaml").write_text(TRAIN)
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion, threshold: 0.5}\n"
    )
    (root / "retraining.yaml").write_text(POLICIES)
    return root


def _replay(repo: Path, policy: str) -> BacktestReport:
    return backtest(Project.open(repo), policy, start=START, end=END)


def _days(report: BacktestReport, strategy: str = "policy") -> list[tuple[str, str, str]]:
    return [
        (line.decision.window[:10], line.decision.action, line.state)
        for line in report.lines(strategy)
    ]


def _counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as con:
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def test_drift_retrains_once_persistence_is_met_and_the_retrained_model_does_better(
    repo: Path,
) -> None:
    before = _counts(repo / ".cairn" / "metadata.db")
    files = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".cairn" not in p.parts)
    report = _replay(repo, "drift")
    # the first fully drifted window ends 07-30; persistence 2 holds the run until 08-29
    drifted = [
        datetime.fromtimestamp(w.end / 1e6, UTC).date().isoformat()
        for w in report.windows
        if w.watch
        and {"drift:income", "drift:debt"} <= {s.split("=")[0] for s in w.watch["signals"]}
    ]
    assert drifted[:2] == ["2025-07-30", "2025-08-29"]
    [line] = report.lines("policy")
    assert (line.decision.trigger, line.decision.window[:10], line.state) == (
        "drift",
        "2025-08-29",
        "approved",
    )
    assert line.gate is not None and line.gate.passed and line.promoted_at is not None
    assert "income" in line.decision.reason and "debt" in line.decision.reason
    # after the promotion, the policy's model is the retrained one and beats the initial one
    late = [w for w in report.windows if w.start >= line.promoted_at]
    assert late and all(w.model["policy"] == "2025-08-29" for w in late)
    assert all(w.model["never"] == "2025-04-01" for w in report.windows)
    policy_auc = float(np.mean([w.auc["policy"] for w in late]))
    never_auc = float(np.mean([w.auc["never"] for w in late]))
    assert policy_auc > never_auc + 0.03, (policy_auc, never_auc)
    # the fixed schedule: every 90 days from the start, gated and approved the same way
    assert [d for d, a, _ in _days(report, "fixed")] == ["2025-06-30", "2025-09-28", "2025-12-27"]
    summary = report.summary()
    assert summary["policy"]["runs"] == 1 and summary["never"]["runs"] == 0
    # nothing written: no metadata row (ledger, audit, ...), no MLflow store, no file
    assert _counts(repo / ".cairn" / "metadata.db") == before
    assert not any((repo / ".cairn").glob("mlflow*")) and not (repo / "mlruns").exists()
    assert sorted(p.relative_to(repo) for p in repo.rglob("*") if ".cairn" not in p.parts) == files


@pytest.mark.parametrize(
    ("policy", "expected", "why"),
    [
        ("cooldown", ["run", "skip", "run", "skip", "run", "skip"], "cooldown: "),
        ("budget", ["run", "run", "skip", "run", "run", "skip"], "budget: 2 runs in the last"),
    ],
)
def test_cooldown_and_budget_hold_on_the_simulated_clock(
    repo: Path, policy: str, expected: list[str], why: str
) -> None:
    report = _replay(repo, policy)
    days = _days(report)
    assert [a for _, a, _ in days] == expected
    assert days[0][0] == "2025-07-30"  # persistence 1: the first drifted window
    assert {s for _, a, s in days if a == "run"} == {"refused"}  # the floor refuses each one
    skips = [line for line in report.lines("policy") if not line.decision.runs]
    assert all(why in line.decision.reason for line in skips)
    assert all(w.model["policy"] == "2025-04-01" for w in report.windows)


def test_the_command_prints_json_like_the_library_and_is_deterministic(repo: Path) -> None:
    args = ["retrain", "backtest", "-p", "drift", "--from", "2025-04-01", "--to", "2026-01-01"]
    shown = runner.invoke(app, [*args, "--json", "--repo", str(repo)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == json.loads(json.dumps(_replay(repo, "drift").to_dict()))
    table = runner.invoke(app, [*args, "--repo", str(repo)])
    assert table.exit_code == 0, table.output
    assert "Backtest of drift" in table.output and "hindsight" in table.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-p", "nope", "--from", "2025-04-01"], "policies: drift, cooldown, budget"),
        (["-p", "drift", "--from", "2025-09-01", "--to", "2025-08-01"], "must start before"),
        (["-p", "drift", "--from", "2020-01-01", "--to", "2020-06-01"], "no entity rows"),
        (["-p", "drift", "--from", "2025-04-01", "--every", "soon"], "--every"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(repo: Path, args: list[str], said: str) -> None:
    result = runner.invoke(app, ["retrain", "backtest", *args, "--repo", str(repo)])
    assert result.exit_code == 2, result.output
    assert said in result.output and "Traceback" not in result.output


def test_a_window_without_rows_is_an_error(repo: Path) -> None:
    with pytest.raises(DataError, match="holds no entity row"):
        backtest(Project.open(repo), "drift", start=START, end=END + timedelta(days=90))


def test_training_at_a_time_sees_only_the_labels_known_then(repo: Path) -> None:
    project = Project.open(repo)
    policy = parse_policies(
        {"policies": {"p": {"deployment": "credit", "data_window": {"lookback": "120d",
                                                                      "label_maturity": "30d"}}}}
    )["p"]  # fmt: skip
    config = TrainConfig.from_yaml(repo / "train.yaml")
    at = to_micros(DRIFT)
    history = load_history(project.features, config, policy, since=at - 200 * DAY, until=at)
    assert history.rule.describe() == "a label is known 30d after its event_timestamp"
    found = fit_at(history, config, policy, at)
    times = history.times[found.rows]
    assert times.min() >= at - 120 * DAY and times.max() < at - 30 * DAY
    assert (history.known_at[found.rows] <= at).all() and set(found.test) <= set(found.rows)
    assert found.model.rows["test"] == len(found.test) and found.model.baseline["auc"] > 0.6
    # decisions see the same labels: those of the last 30 days are not known yet
    recent = history.rows(at - 30 * DAY, at)
    assert np.isnan(history.known(recent, at)).all()
    assert not np.isnan(history.known(recent, at + 30 * DAY)).any()


EXAMPLE_POLICY = """\
policies:
  credit-drift:
    deployment: credit
    training: train.yaml
    triggers:
      drift: {kinds: [drift, score_drift], band: drift, min_features: 2, persistence: 1}
      performance: {metric: auc, max_drop: 0.03, min_labeled: 200}
    cooldown: 30d
    data_window: {lookback: 540d, label_maturity: 0s}
    gates: {max_loss: {auc: 0.02}}
    promotion: {shadow: {min_predictions: 200, min_days: 0}}
"""


@pytest.mark.slow
def test_the_example_project(tmp_path: Path) -> None:
    from cairn.quickstart.example import create_example_project

    root = create_example_project(tmp_path / "credit", seed=7).path
    project = Project.open(root)
    project.features.apply(project.definitions())
    (root / "retraining.yaml").write_text(EXAMPLE_POLICY)
    report = backtest(
        project, "credit-drift", start=datetime(2025, 7, 1, tzinfo=UTC), end=END + timedelta(180)
    )
    assert len(report.windows) == 12 and all(w.rows > 200 for w in report.windows)
    summary = report.summary()
    # the example's applications are stationary: the policy never fires; every 90 days retrains
    assert summary["policy"]["runs"] == 0 and summary["fixed"]["runs"] == 4
    assert summary["policy"]["mean_auc"] == summary["never"]["mean_auc"] > 0.75
