"""`cairn serve` for real: a uvicorn subprocess on a free loopback port, plus its CLI contract."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from tests.serving.conftest import FEATURES, Project

runner = CliRunner(env={"COLUMNS": "200"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cairn() -> list[str]:
    script = Path(sys.executable).parent / "cairn"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cairn.cli.main import main; main()"]


def test_serve_help_has_an_example() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_serve_without_a_project_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--repo", str(tmp_path)])
    assert result.exit_code == 2
    assert "No cairn.yaml" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_serve_answers_over_http(project: Project, tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [
            *_cairn(),
            "serve",
            "--repo",
            str(project.path),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 120  # a loaded machine can take a minute to start it
        while True:
            assert proc.poll() is None, f"cairn serve exited: {Path(log.name).read_text()}"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "cairn serve did not answer within 120 s"
            time.sleep(0.1)
        response = httpx.post(
            f"{base}/v1/features/online",
            timeout=10,
            json={"features": FEATURES, "entities": {"customer_id": [1, 2]}},
        )
        assert response.status_code == 200, response.text
        assert response.json()["features"]["income"] == [20.0, 30.0]
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)  # a graceful stop, however loaded the machine
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), Path(log.name).read_text()
