"""The main job, ``cairn quickstart``: the whole lifecycle on the example project, on the
embedded defaults, then again in a new process over the same folder on PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.quickstart.example import FEATURE_REFS
from tests._services import postgres_database
from tests.quickstart._postgres import check_on_postgresql


def test_quickstart_builds_a_point_in_time_training_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "demo"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["quickstart", str(target)])
    assert result.exit_code == 0, result.output
    assert "Training set" in result.output and "Manifest" in result.output
    assert "Materialized:" in result.output and "Online features at" in result.output
    # both views online == offline; after the move to the stream, both stream views == batch
    assert result.output.count("0 mismatches") == 4
    assert "Parity txn_stats" in result.output and "Parity card_velocity" in result.output
    assert "A card payment one second before the prediction" in result.output
    assert "Changed card_velocity while served" in result.output
    assert "the credit deployment's score moved" in result.output
    assert "Freshness txn_stats" in result.output
    assert "Data quality" in result.output and "Halted" in result.output  # broken batch stopped
    assert "Lineage complete." in result.output  # trained, approved by a second user, promoted
    assert "Served 300 predictions" in result.output and "Reason codes" in result.output
    assert "Unknown applicant: decision refer" in result.output  # coverage guard: a person
    assert "Model gates at promotion: score PSI" in result.output  # the canary judged the model
    # monitoring flags the drifted month only; rollouts never fail a request; the A/B test and
    # the shadow challenger are analyzed
    assert "Stable month (run #1)" in result.output and "no drift" in result.output
    assert "drifted: debt, income, job, score" in result.output
    assert " 0 failed" in result.output and "rolled back by gate" in result.output
    assert "Audit chain intact" in result.output
    assert "A/B analysis" in result.output and "Recommendation:" in result.output
    # the drifted month retrains: gated, shadow challenger, a canary proposed, awaiting approval
    assert "credit-drift #1 gated" in result.output and "all 5 gates passed" in result.output
    assert "credit-drift #1 canary_proposed" in result.output
    assert "Retraining ledger entry" in result.output and "-> canary_proposed" in result.output
    assert (
        "Backtest of credit-drift" in result.output and "schedule run -> approved" in result.output
    )
    # the last step renders every dashboard page over what the steps produced
    assert "Dashboard: " in result.output and " pages rendered" in result.output
    assert ", 0 failed." in result.output and "cairn ui --repo " in result.output
    frame = pd.read_parquet(target / "training" / "training_set.parquet")
    applications = pd.read_parquet(target / "data" / "applications.parquet")
    assert len(frame) == len(applications)
    assert frame["customer_id"].tolist() == applications["customer_id"].tolist()
    features = [r.partition(":")[2] for r in FEATURE_REFS]
    assert set(features) <= set(frame.columns)
    # the profile visible at each application is the published credit_data record: late and
    # corrected rows in profiles.parquet must not leak into the training set
    assert frame["income"].isna().sum() == applications.get("income", frame["income"]).isna().sum()
    # a served decision traces back to its model, data, code and approval
    from cairn.serving.log_reader import query

    (prediction_id,) = query(target, "SELECT prediction_id FROM predictions LIMIT 1").rows[0]
    traced = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["lineage", prediction_id, "--json", "--repo", str(target)]
    )
    assert traced.exit_code == 0, traced.output
    body = json.loads(traced.output)
    assert body["prediction"]["prediction_id"] == prediction_id
    assert body["lineage"]["model"]["name"] == "credit-default"
    # running it again (a new process, as a user would) reuses the folder from scratch; with a
    # test PostgreSQL, the second run is on one PostgreSQL database set by one variable
    # (`CAIRN_DATABASE_URL`), so the full lifecycle runs once per metadata backend
    with contextlib.ExitStack() as stack:
        env = dict(os.environ, COLUMNS="200")
        url = None
        if os.environ.get("CAIRN_TEST_POSTGRES_URL"):
            url = stack.enter_context(postgres_database("quickstart"))
            env["CAIRN_DATABASE_URL"] = url
        cairn = Path(sys.executable).parent / "cairn"
        again = subprocess.run(
            [str(cairn), "quickstart", str(target)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=env,
        )
        out = again.stdout
        assert again.returncode == 0, out + again.stderr
        assert out.count("0 mismatches") == 4 and "Halted" in out
        assert "Lineage complete." in out and "Audit chain intact" in out
        assert "Served 300 predictions" in out and " 0 failed" in out
        assert "credit-drift #1 canary_proposed" in out
        if url is not None:
            assert "pipeline aborted" not in out  # psycopg's noise about MLflow's retries
            monkeypatch.setenv("CAIRN_DATABASE_URL", url)  # Project.open reads it
            check_on_postgresql(target, url)
