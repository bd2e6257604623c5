"""`cairn audit log` and `cairn audit verify` on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cairn.app.feature_store import FeatureStore
from cairn.cli.main import app
from cairn.registry import AuditLog

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def project(tmp_path: Path, metadata_url: str, project_name: str) -> Path:
    (tmp_path / "cairn.yaml").write_text(
        f"project: {project_name}\nmetadata:\n  url: {metadata_url}\n"
    )
    return tmp_path


def _audit(project: Path) -> AuditLog:
    store = FeatureStore(project)
    return AuditLog(store.metadata.engine, store.project)


def test_log_and_verify(project: Path) -> None:
    repo = ["--repo", str(project)]
    empty = runner.invoke(app, ["audit", "log", *repo])
    assert empty.exit_code == 0 and "No audit entries match." in empty.output
    fresh = runner.invoke(app, ["audit", "verify", *repo])
    assert fresh.exit_code == 0 and "chain intact: 0 entries" in fresh.output

    audit = _audit(project)
    audit.append("ana", "model.registered", "credit/3", {"run": "r1"})
    audit.append("bo", "review.noted", "credit/3", {"decision": "approve"})
    audit.append("bo", "release.noted", "credit@champion", {"version": "3"})

    listing = runner.invoke(app, ["audit", "log", *repo])
    assert listing.exit_code == 0, listing.output
    for text in ("model.registered", "review.noted", "credit@champion", '{"run": "r1"}'):
        assert text in listing.output
    only = runner.invoke(app, ["audit", "log", "--subject", "credit@champion", *repo])
    assert "release.noted" in only.output and "review.noted" not in only.output
    newest = runner.invoke(app, ["audit", "log", "--action", "review.noted", "-n", "1", *repo])
    assert "review.noted" in newest.output and "model.registered" not in newest.output
    ok = runner.invoke(app, ["audit", "verify", *repo])
    assert ok.exit_code == 0 and "chain intact: 3 entries" in ok.output


def test_verify_names_each_problem_and_exits_1(project: Path, project_name: str) -> None:
    audit = _audit(project)
    for n in range(5):
        audit.append("ana", "note", "credit", {"n": n})
    with audit.engine.begin() as conn:
        where = {"p": project_name}
        conn.execute(
            sa.text("UPDATE cairn_audit_log SET actor = 'eve' WHERE project = :p AND seq = 2"),
            where,
        )
        conn.execute(sa.text("DELETE FROM cairn_audit_log WHERE project = :p AND seq = 4"), where)
    result = runner.invoke(app, ["audit", "verify", "--repo", str(project)])
    assert result.exit_code == 1
    assert "problem: entry 2 was edited (hash mismatch)" in result.output
    assert "problem: entry 4 is missing (sequence gap 3 -> 5)" in result.output
    assert "error: audit chain broken: 2 problem(s) in 4 entries" in result.output


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--repo", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: No cairn.yaml") and result.output.count("\n") == 1
    negative = runner.invoke(app, ["audit", "log", "--limit", "-1", "--repo", str(tmp_path)])
    assert negative.exit_code == 2 and "greater than or equal to" in negative.output


@pytest.mark.parametrize("command", ["log", "verify", "checkpoint", "sign-head"])
def test_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, ["audit", command, "--help"])
    assert result.exit_code == 0 and "Example: cairn audit" in result.output
