"""`cairn audit verify|checkpoint|sign-head` with signing keys and checkpoints, on SQLite and
PostgreSQL: exit 0 intact, 1 tampering found, 2 bad input; --json like other commands."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.cli.main import app
from cairn.core.settings.sections import AuditSettings
from cairn.registry import AuditLog
from cairn.registry.anchor import head_anchor
from tests.registry import _attacks as attack

runner = CliRunner(env={"COLUMNS": "200"})
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def project(tmp_path: Path, metadata_url: str, project_name: str) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "cairn.yaml").write_text(
        f"project: {project_name}\nmetadata:\n  url: {metadata_url}\n"
        "audit:\n  signing: hmac\n  key_file: audit.key\n"
    )
    (root / "audit.key").write_text(KEY + "\n")
    return root


def _log(root: Path, n: int = 5) -> AuditLog:
    with Project.open(root) as opened:
        settings, engine, name = opened.settings.audit, opened.metadata.engine, opened.name
        log = AuditLog(engine, name, anchor=head_anchor(settings, root))
        for i in range(n):
            log.append("ana", "note", "credit", {"i": i})
    return log


def _verify(root: Path, *extra: str) -> Any:
    return runner.invoke(app, ["audit", "verify", "--repo", str(root), *extra])


def test_signed_chain_checkpoint_and_verify(project: Path, tmp_path: Path) -> None:
    _log(project)
    out = tmp_path / "worm" / "checkpoints.jsonl"
    made = runner.invoke(app, ["audit", "checkpoint", "--out", str(out), "--repo", str(project)])
    assert made.exit_code == 0, made.output
    assert "checkpoint of entry 5" in made.output and "signed (hmac-sha256 key" in made.output
    line = json.loads(out.read_text())
    assert (line["seq"], line["algorithm"], line["format"]) == (
        5,
        "hmac-sha256",
        "cairn.audit.checkpoint/1",
    )
    ok = _verify(project, "--checkpoints", str(out))
    assert ok.exit_code == 0, ok.output
    assert "chain intact: 5 entries" in ok.output
    assert "head signature valid: entry 5, hmac-sha256 key" in ok.output
    assert "1 checkpoint(s) checked against the chain" in ok.output

    as_json = _verify(project, "--checkpoints", str(out), "--json")
    data = json.loads(as_json.stdout)
    assert as_json.exit_code == 0 and data["ok"] and data["head_signature"] == "valid"
    assert data["checkpoints"] == 1 and data["signing"] == "hmac-sha256"


def test_a_rewritten_chain_exits_1_naming_the_first_break(
    project: Path, tmp_path: Path, project_name: str
) -> None:
    log = _log(project)
    out = tmp_path / "cp.jsonl"
    assert (
        runner.invoke(
            app, ["audit", "checkpoint", "-o", str(out), "--repo", str(project)]
        ).exit_code
        == 0
    )
    rows, _ = attack.read(log.engine, project_name)
    forged = attack.insert_renumbered(rows, 3, 1, good_link=True)
    attack.store(log.engine, project_name, forged, attack.head_of(forged))
    result = _verify(project, "--checkpoints", str(out))
    assert result.exit_code == 1
    assert "problem: entry 3 was inserted (entries 3-5 were renumbered to 4-6" in result.output
    assert "problem: the chain head signature does not verify" in result.output
    assert "first break: entry 3 (inserted)" in result.output
    as_json = _verify(project, "--json")
    data = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and not data["ok"]
    assert data["findings"][0] == {
        "kind": "inserted",
        "seq": 3,
        "message": data["problems"][0],
    }
    refused = runner.invoke(app, ["audit", "checkpoint", "-o", str(out), "--repo", str(project)])
    assert refused.exit_code == 1 and "Refusing to checkpoint" in refused.output


def test_unsigned_mode_is_stated(tmp_path: Path, metadata_url: str, project_name: str) -> None:
    (tmp_path / "cairn.yaml").write_text(
        f"project: {project_name}\nmetadata:\n  url: {metadata_url}\n"
    )
    result = _verify(tmp_path)
    assert result.exit_code == 0
    assert "unsigned: audit.signing is none" in result.output


def test_signing_from_the_environment(tmp_path: Path, metadata_url: str, project_name: str) -> None:
    (tmp_path / "cairn.yaml").write_text(
        f"project: {project_name}\nmetadata:\n  url: {metadata_url}\n"
    )
    env = {"CAIRN_AUDIT__SIGNING": "hmac", "CAIRN_AUDIT_KEY": KEY}
    log = AuditLog(
        Project.open(tmp_path).metadata.engine,
        project_name,
        anchor=head_anchor(AuditSettings(signing="hmac"), tmp_path, env),
    )
    log.append("ana", "note", "credit")
    result = runner.invoke(app, ["audit", "verify", "--repo", str(tmp_path)], env=env)
    assert result.exit_code == 0 and "head signature valid" in result.output
    unsigned = runner.invoke(app, ["audit", "verify", "--repo", str(tmp_path)])
    assert unsigned.exit_code == 0 and "head carries a hmac-sha256 signature" in unsigned.output
    no_key = runner.invoke(
        app, ["audit", "verify", "--repo", str(tmp_path)], env={"CAIRN_AUDIT__SIGNING": "hmac"}
    )
    assert no_key.exit_code == 2 and "CAIRN_AUDIT_KEY" in no_key.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "cp.jsonl:1 is not JSON"),
        ('{"format": "other"}\n', "must be a JSON object with format"),
        ('{"format": "cairn.audit.checkpoint/1", "seq": 1}\n', "lacks project, hash, at"),
    ],
)
def test_bad_checkpoints_exit_2(project: Path, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "cp.jsonl"
    path.write_text(content)
    result = _verify(project, "--checkpoints", str(path))
    assert result.exit_code == 2 and message in result.output, result.output
    missing = _verify(project, "--checkpoints", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "cannot be read" in missing.output


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Collector.received.append(json.loads(body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/checkpoints"
    server.shutdown()
    server.server_close()


def test_checkpoint_posted_to_a_url(project: Path, collector: str, project_name: str) -> None:
    _log(project, 2)
    _Collector.received.clear()
    result = runner.invoke(app, ["audit", "checkpoint", "--out", collector, "--repo", str(project)])
    assert result.exit_code == 0 and "posted to http://127.0.0.1" in result.output
    assert [(c["project"], c["seq"]) for c in _Collector.received] == [(project_name, 2)]
    down = runner.invoke(
        app, ["audit", "checkpoint", "--out", "http://127.0.0.1:1/x", "--repo", str(project)]
    )
    assert down.exit_code == 2 and "Could not POST the checkpoint" in down.output


def test_sign_head_needs_an_admin(project: Path, tmp_path: Path) -> None:
    from tests.auth._team import make_team

    team = make_team(project, tmp_path / "tokens")
    with Project.open(project) as opened:  # written before signing: an unsigned head
        AuditLog(opened.metadata.engine, opened.name).append("ana", "note", "credit")
    assert _verify(project).exit_code == 1
    args = ["audit", "sign-head", "--reason", "CHG-1", "--repo", str(project)]
    denied = runner.invoke(app, [*args, "--token-file", str(team.files["approver"])])
    assert denied.exit_code == 1 and "admin" in denied.output
    signed = runner.invoke(app, [*args, "--token-file", str(team.files["admin"])])
    assert signed.exit_code == 0 and "audit.head.signed" in signed.output, signed.output
    assert _verify(project).exit_code == 0


def test_an_approval_row_inserted_by_sql_is_reported(project: Path, project_name: str) -> None:
    log = _log(project, 2)
    with log.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO cairn_approvals (project, model, version, reviewer, ticket, decision,"
                " note, author, at) VALUES (:p, 'credit', '4', 'mallory', 'MRR-2026-0999',"
                " 'approve', '', 'ana', :at)"
            ),
            {"p": project_name, "at": datetime(2026, 3, 1, tzinfo=UTC)},
        )
    result = _verify(project)
    assert result.exit_code == 1
    assert "cairn_approvals row" in result.output
    assert "has no approval.recorded entry in the audit chain" in result.output
    data = json.loads(_verify(project, "--json").stdout)
    assert [f["kind"] for f in data["findings"]] == ["reconcile"]


def test_governance_commands_sign_the_head(project: Path, tmp_path: Path) -> None:
    """Token changes go through the project's audit log: the head they leave is signed."""
    from tests.auth._team import make_team

    team = make_team(project, tmp_path / "tokens")  # token.created entries via project.audit
    ok = _verify(project)
    assert ok.exit_code == 0 and "head signature valid" in ok.output, ok.output
    created = runner.invoke(
        app,
        [
            "auth", "token", "create", "--holder", "zoe", "--role", "viewer",
            "--repo", str(project), "--token-file", str(team.files["admin"]),
        ],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    again = _verify(project)
    assert again.exit_code == 0 and "head signature valid" in again.output, again.output
