"""`cairn monitor run|report|history` on a small trained project with a logged month."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cairn import FeatureStore
from cairn.app.model_loader import RegistryModelLoader
from cairn.cli.main import app
from cairn.core.predictions import Outcome
from cairn.core.timeutil import to_micros
from cairn.registry.models import ModelRegistry
from cairn.tracking import Tracker
from cairn.training import TrainConfig, train
from tests.monitoring.test_window import log_table as to_log
from tests.monitoring.test_window import outcome_table, record
from tests.tracking._fixtures import ENTITIES, FEATURES, definitions, mlflow_template, write_data

__all__ = ["mlflow_template"]

runner = CliRunner(env={"COLUMNS": "200"})
END = datetime(2026, 10, 2, tzinfo=UTC)
DAY = 86_400_000_000


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """A trained credit-default v1 behind deployment ``credit``, and two days of its traffic
    (the second day with incomes tripled), 90 % labeled."""
    root = tmp_path_factory.mktemp("monitor-cli") / "credit"
    root.mkdir()
    (root / "cairn.yaml").write_text("project: credit\n")
    write_data(root, 20261126)
    (root / ".cairn").mkdir()
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    store = FeatureStore(root)
    store.apply(definitions())  # type: ignore[arg-type]
    config = TrainConfig.from_mapping(
        {
            "model_name": "credit-default", "entities": ENTITIES, "label": "defaulted",
            "features": FEATURES, "model": {"num_boost_round": 10, "threads": 1},
            "reference": {"sample": 400, "rows": "all"},
        },
        source="train.yaml",
    )  # fmt: skip
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    train(config, store, tracker, author="ana")
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default/1, threshold: 0.5}\n"
    )
    registry = ModelRegistry(tracker, store.metadata.engine, store.project)
    model = RegistryModelLoader(tracker, registry).load("credit-default/1", "1")
    people = pd.read_parquet(root / "data" / "profiles.parquet")
    labels = pd.read_parquet(root / "data" / "applications.parquet").set_index("customer_id")
    rng = np.random.default_rng(7)
    records = []
    for day in (0, 1):
        start = to_micros(END) - (2 - day) * DAY
        rows = people.sample(300, random_state=day)
        inputs = [
            {"income": float(r["income"]) * (3 if day else 1), "debt": float(r["debt"]),
             "home": str(r["home"]), "age": int(r["age"])}
            for r in rows.to_dict(orient="records")
        ]  # fmt: skip
        scores = model.score(model.matrix(inputs))
        for i, (features, customer) in enumerate(zip(inputs, rows["customer_id"], strict=True)):
            time = start + int(rng.integers(0, DAY))
            r = record(day * 1000 + i, time, features, float(scores[i]),
                       entity={"customer_id": int(customer)})  # fmt: skip
            records.append(r)
    outcomes = [
        Outcome(float(labels.loc[r.entity["customer_id"], "defaulted"]), to_micros(END),
                prediction_id=r.prediction_id)
        for r in records[: int(0.9 * len(records))]
    ]  # fmt: skip
    (root / ".cairn" / "predictions").mkdir(parents=True)
    (root / ".cairn" / "outcomes").mkdir(parents=True)
    pq.write_table(to_log(records), root / ".cairn" / "predictions" / "days.parquet")
    pq.write_table(outcome_table(outcomes), root / ".cairn" / "outcomes" / "days.parquet")
    return root


def invoke(repo: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["monitor", *args, "--repo", str(repo)])
    return result.exit_code, result.output


def test_run_history_and_report(repo: Path) -> None:
    code, out = invoke(
        repo, "run", "-d", "credit", "--window", "1d", "--as-of", "2026-10-01T00:00:00Z"
    )
    assert code == 0, out
    assert re.search(r"credit vs credit-default v1 — run #\d+: 300 predictions", out)
    assert "no drift" in out
    assert "Drift (all traffic)" in out and "Performance:" in out
    code, out = invoke(repo, "run", "-d", "credit", "--window", "1d", "--fail-on-signal")
    assert code == 1, out  # the second day drifted: a signal, and --fail-on-signal
    assert "ending at the last prediction (the log ends before now)" in out
    assert "Band change: credit income: stable -> drift" in out and "Signals: drift:income" in out
    code, out = invoke(repo, "run", "-d", "credit", "--window", "1d", "--segment", "home", "--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["drifted"] == ["income"] and body["window"]["anchor"] == "last_prediction"
    assert {r["segment"] for r in body["results"]} >= {"", "home=owner"}
    assert body["performance"]["status"] in ("judged", "error")
    code, out = invoke(repo, "history", "-d", "credit")
    assert code == 0 and "Monitoring history of credit" in out
    ids = [int(m) for m in re.findall(r"^│ (\d+) ", out, re.M)]
    assert len(ids) >= 3 and ids == sorted(ids, reverse=True)  # newest first
    code, out = invoke(repo, "report", "--out", "reports/monitor.html")
    assert code == 0 and (repo / "reports" / "monitor.html").is_file(), out
    html = (repo / "reports" / "monitor.html").read_text()
    assert "Deployment credit" in html and "Segments by home" in html


def test_an_empty_window_says_so_and_succeeds(repo: Path) -> None:
    code, out = invoke(repo, "run", "-d", "credit", "--as-of", "2026-01-01T00:00:00Z")
    assert code == 0, out
    assert "Empty window: no primary prediction of 'credit' in [2025-12-31T00:00:00Z" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "-d", "fraud"], "No deployment 'fraud'; deployments: credit."),
        (["run", "-d", "credit", "--window", "a day"], "--window must be a timedelta"),
        (["run", "-d", "credit", "--as-of", "2026-10-01"], "--as-of must include a zone"),
        (["run", "-d", "credit", "--webhook", "hooks.local/x"], "monitoring.webhook_url must be"),
        (["run", "-d", "credit", "--segment", "region"], "Segment column 'region' is not"),
        (["report", "-d", "fraud"], "No monitoring runs of deployment 'fraud' yet"),
        (["history", "-d", "credit", "--limit", "0"], "Invalid value for '--limit'"),
    ],
)
def test_bad_input_exits_2_with_one_line(repo: Path, args: list[str], needle: str) -> None:
    code, out = invoke(repo, *args)
    assert code == 2 and needle in out, out
    if not args[-1] == "0":  # Typer's own usage errors are framed; ours are one line
        assert len(out.strip().splitlines()) == 1, out


def test_a_bad_setting_is_one_line(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "p"
    other.mkdir()
    (other / "cairn.yaml").write_text("project: p\nmonitoring:\n  completeness: 2\n")
    code, out = invoke(other, "history", "-d", "credit")
    assert code == 2 and "monitoring.completeness must be in (0, 1]; got 2.0." in out
