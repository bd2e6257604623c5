"""`cairn predictions compact`: recovery and hourly merging from the command line."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import orjson
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.serving.log_reader import query

runner = CliRunner(env={"COLUMNS": "200"})


def test_compact_recovers_and_merges_closed_hours(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: p\n")
    staging = tmp_path / ".cairn" / "predictions" / "staging"
    staging.mkdir(parents=True)
    old = time.time() - 3 * 3600
    for k in range(3):  # three servers killed hours ago, their staging files never converted
        dead = staging / f"{k + 1}-deadbeef-00000001.jsonl"
        dead.write_bytes(orjson.dumps({"prediction_id": f"p{k}", "decision": "approve"}) + b"\n")
    assert query(tmp_path, "SELECT count(*) FROM predictions").rows == [(0,)]

    first = runner.invoke(app, ["predictions", "compact", "--repo", str(tmp_path), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["predictions"]["recovered"] == 3
    for segment in (tmp_path / ".cairn" / "predictions").glob("*.parquet"):
        os.utime(segment, (old, old))  # as if converted then

    second = runner.invoke(app, ["predictions", "compact", "--repo", str(tmp_path), "--grace", "0"])
    assert second.exit_code == 0, second.output
    assert "merged 3 segment(s) into 1 hourly file(s), deleted 3" in second.output
    rows = query(tmp_path, "SELECT prediction_id FROM predictions ORDER BY 1").rows
    assert rows == [("p0",), ("p1",), ("p2",)]
