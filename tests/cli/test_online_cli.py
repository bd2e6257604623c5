"""`cairn materialize*`, `status`, `consistency check` on the example project."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("online-cli") / "credit"
    assert runner.invoke(app, ["init", str(path), "--template", "credit"]).exit_code == 0
    assert runner.invoke(app, ["apply", "--repo", str(path)]).exit_code == 0
    return path


def test_materialize_status_and_consistency(project: Path) -> None:
    repo = ["--repo", str(project)]
    before = runner.invoke(app, ["status", *repo])
    assert before.exit_code == 0 and "never materialized" in before.output
    first = runner.invoke(app, ["materialize-incremental", "2026-03-01T00:00:00Z", *repo])
    assert first.exit_code == 0, first.output
    assert "txn_stats" in first.output and "customer_profile" in first.output
    again = runner.invoke(app, ["materialize-incremental", "2026-03-01T00:00:00Z", *repo])
    assert "Nothing new to materialize" in again.output
    ranged = runner.invoke(
        app,
        [
            "materialize",
            "2026-02-01T00:00:00Z",
            "2026-03-01T00:00:00Z",
            "--view",
            "customer_profile",
            *repo,
        ],
    )
    assert ranged.exit_code == 0, ranged.output
    after = runner.invoke(app, ["status", *repo])
    assert "2026-03-01 00:00:00+00:00" in after.output
    for view in ("customer_profile", "txn_stats"):
        check = runner.invoke(app, ["consistency", "check", view, "--sample", "50", *repo])
        assert check.exit_code == 0, check.output
        assert "mismatches" in check.output and "null one side" in check.output
    # before any data: no value exists on both sides, so nothing was compared; a report of
    # "0 mismatches" would be a false all-clear
    empty = runner.invoke(
        app,
        ["consistency", "check", "customer_profile", "--at", "2000-01-01T00:00:00Z", *repo],
    )
    assert empty.exit_code == 1, empty.output
    assert "0 values compared" in empty.output
    as_json = runner.invoke(
        app, ["consistency", "check", "customer_profile", "--sample", "20", "--json", *repo]
    )
    import json

    body = json.loads(as_json.output)
    assert body["ok"] and sum(body["compared"].values()) > 0
    assert set(body["both_null"]) == set(body["one_sided"]) == set(body["mismatches"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["materialize-incremental", "2026-03-01"], "must include a zone"),
        (["materialize-incremental", "yesterday"], "must be an ISO 8601 time"),
        (["materialize", "2026-03-01T00:00:00Z", "2026-01-01T00:00:00Z"], "must be before"),
        (["materialize-incremental", "now", "--view", "nope"], "No feature view 'nope'"),
        (["consistency", "check", "nope"], "No feature view 'nope'"),
    ],
)
def test_bad_input(project: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, [*args, "--repo", str(project)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_status_shows_a_range_materialization(tmp_path: Path) -> None:
    """A view loaded only by `cairn materialize START END` has data online but no watermark:
    status says so, with the range, its rows and when it ran (not "never materialized")."""
    import json

    path = tmp_path / "credit"
    assert runner.invoke(app, ["init", str(path), "--template", "credit"]).exit_code == 0
    repo = ["--repo", str(path)]
    assert runner.invoke(app, ["apply", *repo]).exit_code == 0
    ranged = runner.invoke(
        app,
        ["materialize", "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "--view",
         "customer_profile", *repo],
    )  # fmt: skip
    assert ranged.exit_code == 0, ranged.output
    shown = runner.invoke(app, ["status", *repo])
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.output.splitlines() if "customer_profile" in x)
    assert "none (range runs only)" in line and "2026-03-01 00:00:00+00:00)" in line
    assert "never materialized" in next(x for x in shown.output.splitlines() if "txn_stats" in x)
    listed = json.loads(runner.invoke(app, ["status", "--json", *repo]).output)
    rows = {r["view"]: r for r in listed}
    profile = rows["customer_profile"]
    assert profile["watermark"] is None
    assert profile["last_range_start"].startswith("2026-01-01T00:00:00")
    assert profile["last_range_end"].startswith("2026-03-01T00:00:00")
    assert profile["last_range_rows"] > 0 and profile["last_run"] is not None
    assert rows["txn_stats"]["last_range_end"] is None and rows["txn_stats"]["last_run"] is None
