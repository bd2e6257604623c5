"""`cairn ui`: the dashboard alone, open on a loopback address and behind a viewer token on
any other (uvicorn's ``run`` is replaced by a function that keeps the app it is given)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from cairn.cli.main import app
from tests.serving._client import TestClient

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def test_ui_serves_the_dashboard_open_on_loopback(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    result = runner.invoke(app, ["ui", "--repo", str(tmp_path), "--port", "8123"])
    assert result.exit_code == 0, result.output
    [call] = served
    assert (call["host"], call["port"]) == ("127.0.0.1", 8123)
    with TestClient(call["app"]) as client:
        page = client.get("/ui/models")
    assert page.status_code == 200 and "No registered models yet" in page.text


def test_ui_needs_a_viewer_token_on_other_addresses(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    result = runner.invoke(app, ["ui", "--repo", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    with TestClient(served[0]["app"]) as client:
        page = client.get("/ui/")
    assert page.status_code == 401 and 'href="/ui/login"' in page.text


def test_ui_refuses_a_folder_without_a_project_in_one_line(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    result = runner.invoke(app, ["ui", "--repo", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "cairn.yaml" in result.output and "Traceback" not in result.output
    assert served == []


def test_ui_on_loopback_reads_openly_but_actions_need_a_signed_in_token(
    tmp_path: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    (tmp_path / "deployments.yaml").write_text("deployments:\n  credit: {model: m@champion}\n")
    monkeypatch.setenv("CAIRN_ADMIN_TOKEN", "root-123")
    result = runner.invoke(app, ["ui", "--repo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    url = "/ui/deployments/credit/actions/rollback"
    with TestClient(served[0]["app"]) as client:
        assert client.get("/ui/deployments/credit").status_code == 200  # open for reading
        acting = client.post(url, data={"csrf": "", "version": "0"})
        assert acting.status_code == 401 and 'href="/ui/login"' in acting.text
        assert client.get("/ui/login").status_code == 200
        wrong = client.post("/ui/login", data={"token": "nope"}, follow_redirects=False)
        assert wrong.status_code == 401
        signed = client.post("/ui/login", data={"token": "root-123"}, follow_redirects=False)
        assert signed.status_code == 303
        # signed in as admin; the implicit single rollout offers no rollback
        assert client.get(url).status_code == 409


def test_ui_check_renders_every_page_and_serves_nothing(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    result = runner.invoke(app, ["ui", "--repo", str(tmp_path), "--check"])
    assert result.exit_code == 0, result.output
    assert served == []
    lines = result.output.splitlines()
    assert any(line.startswith("ok  200") and line.endswith(" /ui/") for line in lines)
    assert any(line.endswith(" /ui/experiments") for line in lines)
    assert "pages, 0 failed; median" in result.output


def test_ui_check_exits_1_when_a_page_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.ui.web import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit store is unreadable")

    monkeypatch.setattr(audit, "gather_audit", broken)
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    result = runner.invoke(app, ["ui", "--repo", str(tmp_path), "--check"])
    assert result.exit_code == 1, result.output
    assert any(line.startswith("ERR 500") and "/ui/audit" in line
               for line in result.output.splitlines())  # fmt: skip
    assert "1 failed" in result.output
