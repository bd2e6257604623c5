"""The whole loop against an MLflow server on a real PostgreSQL (DESIGN §4: the at-scale setup).

The server runs as one process (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``) on a free
loopback port, in a database of its own that is dropped afterwards. MLflow's PostgreSQL schema
holds dataset digests in ``VARCHAR(36)``, so this also proves Cairn's 64-character manifest
digest is stored the way MLflow accepts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.auth import Principal
from cairn.cli.main import app
from tests._services import postgres_url_or_skip

STARTUP_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of an MLflow server on a fresh PostgreSQL database."""
    base = postgres_url_or_skip()
    name = f"mlflow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    folder = tmp_path_factory.mktemp("mlflow-server")
    log = folder / "server.log"
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", url,
        "--artifacts-destination", str(folder / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(address, server, log)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait_healthy(address: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{address}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"mlflow server not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.mark.postgres
def test_train_govern_and_trace_through_an_mlflow_server(
    mlflow_server: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tracking._fixtures import ENTITIES, FEATURES

    monkeypatch.setenv("CAIRN_TRACKING__URI", mlflow_server)
    monkeypatch.setenv("CAIRN_TRACKING__EXPERIMENT", f"credit-{uuid.uuid4().hex[:8]}")
    model = f"credit-{uuid.uuid4().hex[:8]}"
    config = {
        "model_name": model,
        "entities": ENTITIES,
        "label": "defaulted",
        "features": FEATURES,
        "model": {"num_boost_round": 10, "params": {"num_leaves": 5, "num_threads": 1}},
    }
    (project / "train.yaml").write_text(json.dumps(config))
    runner = CliRunner()
    repo = ["--repo", str(project)]

    setup = Principal("setup", "admin", via="test")
    with Project.open(project) as opened:  # ana trains and promotes, bo reviews
        tokens = {
            user: opened.tokens.create(user, role, created_by=setup)[1]  # type: ignore[arg-type]
            for user, role in (("ana", "deployer"), ("bo", "approver"))
        }

    def run(*args: str, user: str = "ana") -> str:
        monkeypatch.setenv("CAIRN_TOKEN", tokens[user])
        out = runner.invoke(app, [*args, *repo])
        assert out.exit_code == 0, out.output
        return out.output

    assert f"Registered {model} version 1" in run("train", "--config", "train.yaml")
    run("models", "approve", model, "1", "--ticket", "MRR-2026-0123", "--decision", "approve",
        user="bo")  # fmt: skip
    run("models", "promote", model, "1", "--reason", "MRR-2026-0123 approved")
    lineage = json.loads(run("lineage", f"{model}@champion", "--json"))
    assert lineage["complete"], lineage["missing"]
    digest = lineage["training_set"]["digest"]
    (dataset,) = lineage["training_set"]["dataset_inputs"]
    assert len(digest) == 64 and dataset["digest"] == digest[:32]
    assert lineage["run"]["metrics"]["valid_auc"] > 0.5
    run_id = lineage["run"]["run_id"]
    assert "Metrics are identical" in run("train", "--reproduce", run_id)
