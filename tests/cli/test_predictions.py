"""`cairn predictions query`, `cairn outcomes load` and the serving demo's printer."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.core.predictions import PredictionRecord
from cairn.quickstart.printers import print_serving_demo
from cairn.quickstart.serving_demo import ServingDemo
from cairn.serving.log_reader import QueryResult
from cairn.serving.log_records import PREDICTION_SCHEMA, prediction_row
from cairn.serving.prediction_log import SegmentLog

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    (tmp_path / "cairn.yaml").write_text("project: p\n")
    log = SegmentLog(tmp_path / ".cairn" / "predictions", PREDICTION_SCHEMA)
    for i, decision in enumerate(["approve", "decline", "decline"]):
        record = PredictionRecord(
            prediction_id=f"p{i}", time=1_764_000_000_000_000 + i, deployment="credit",
            model_name="credit-default", model_version="1", entity={"customer_id": i},
            features={"income": 10.0 * i}, score=0.3 * i, decision=decision, latency_ms=0.5,
        )  # fmt: skip
        log.append(prediction_row(record))
    log.close()
    return tmp_path


def test_query_reads_predictions_with_duckdb(logged: Path) -> None:
    sql = "SELECT decision, count(*) AS n FROM predictions GROUP BY 1 ORDER BY 1"
    result = runner.invoke(app, ["predictions", "query", sql, "--repo", str(logged)])
    assert result.exit_code == 0, result.output
    assert "approve" in result.output and "│ 2 " in result.output


def test_outcomes_load_by_prediction_id_and_by_entity(logged: Path) -> None:
    labels = logged / "labels.csv"
    labels.write_text("prediction_id,label,observed_at\np1,1,2026-11-26T00:00:00Z\n")
    by_entity = logged / "late.jsonl"
    by_entity.write_text('{"customer_id": 2, "event_time": "2026-11-20T00:00:00Z", "label": 0}\n')
    for file in (labels, by_entity):
        result = runner.invoke(app, ["outcomes", "load", str(file), "--repo", str(logged)])
        assert result.exit_code == 0 and "Loaded 1 outcomes" in result.output, result.output
    sql = (
        "SELECT p.prediction_id, o.label FROM outcomes o JOIN predictions p ON "
        "o.prediction_id = p.prediction_id OR (o.entity = p.entity AND o.event_time >= p.time) "
        "ORDER BY 1"
    )
    result = runner.invoke(app, ["predictions", "query", sql, "--repo", str(logged)])
    assert "p1" in result.output and "p2" in result.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("prediction_id,label\np1,high\n", "label must be a number"),
        ("customer_id,label\n5,1\n", "needs a prediction_id"),
    ],
)
def test_bad_outcome_files_fail_with_one_line(logged: Path, content: str, needle: str) -> None:
    bad = logged / "bad.csv"
    bad.write_text(content)
    result = runner.invoke(app, ["outcomes", "load", str(bad), "--repo", str(logged)])
    assert result.exit_code == 2 and needle in result.output


def test_a_bad_query_fails_with_one_line(logged: Path) -> None:
    result = runner.invoke(app, ["predictions", "query", "SELEKT 1", "--repo", str(logged)])
    assert result.exit_code == 2 and "The query failed" in result.output


def test_print_serving_demo_shows_the_decline_and_its_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = {"code": "R04", "text": "Existing debt too high", "feature": "debt",
              "value": 900.0, "contribution": 0.8, "direction": "high"}  # fmt: skip
    declined = {
        "prediction_id": "abc", "model": {"name": "credit-default", "version": "1"},
        "score": 0.91, "latency_ms": 0.7, "reason_codes": [reason],
        "summary": "Decision: decline. Main reason: Existing debt too high.",
    }  # fmt: skip
    log = QueryResult(["decision", "predictions"], [("decline", 120), ("approve", 180)])
    print_serving_demo(ServingDemo("http://127.0.0.1:1", 300, declined, {}, 150, log, [1.0]))
    out = capsys.readouterr().out
    for text in ("Served 300 predictions", "R04", "Existing debt too high", "Loaded 150", "180"):
        assert text in out, text
