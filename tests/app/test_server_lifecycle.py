"""The server's background loops live and die with the app: building an app starts no
thread, the ASGI lifespan starts the pollers, shutting down leaves no thread behind, and
``cairn serve --workers N`` builds no app in the parent process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from cairn.app.server import build_app
from cairn.testing.servers import free_port, stop_server, wait_ready
from tests.rollouts._rollout_project import rollout_project
from tests.serving._client import TestClient
from tests.serving.conftest import write_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

POLLERS = {"cairn-refresh", "cairn-model-poll", "cairn-rollout-poll"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """A project with a deployment (champion and challenger registered)."""
    return rollout_project(tmp_path_factory.mktemp("lifecycle"), mlflow_template)


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    # Each MLflow artifact repository owns a thread pool (Mlflow<Class>_N) that MLflow builds
    # inside its own model-loading call; its idle workers end when MLflow's repository is
    # collected, not at the app's shutdown, and Cairn holds no handle to close them.
    return [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.name.startswith("Mlflow")
    ]


def test_building_an_app_starts_no_thread(served: Path) -> None:
    before = set(threading.enumerate())
    build_app(served)
    assert [t.name for t in _new_threads(before) if t.name.startswith("cairn-")] == []


def test_the_lifespan_starts_the_pollers_and_shutdown_leaves_no_thread(served: Path) -> None:
    before = set(threading.enumerate())
    app = build_app(served)
    with TestClient(app) as client:
        running = {t.name for t in _new_threads(before)}
        assert running >= POLLERS | {"cairn-log-flush"}
        answer = client.post("/v1/predict/credit", json={"entities": {"customer_id": 1}})
        assert answer.status_code == 200
    deadline = time.monotonic() + 10
    while _new_threads(before) and time.monotonic() < deadline:  # TestClient's portal thread
        time.sleep(0.05)
    assert [t.name for t in _new_threads(before)] == []


def test_a_project_without_deployments_polls_only_its_definitions(tmp_path: Path) -> None:
    project = write_project(tmp_path / "features")
    before = set(threading.enumerate())
    with TestClient(build_app(project.path)):
        assert {t.name for t in _new_threads(before)} & (POLLERS | {"cairn-log-flush"}) == {
            "cairn-refresh"
        }
    deadline = time.monotonic() + 10
    while _new_threads(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _new_threads(before) == []


def _maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/maps")
def test_workers_build_the_app_and_the_parent_does_not(served: Path) -> None:
    """The parent of ``--workers 2`` only checks the project: it never loads a model (LightGBM's
    library stays out of its memory), while each worker serves predictions."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(served / ".cairn" / "workers.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cairn.cli.main import main; main()", "serve", "--repo",
         str(served), "--port", str(port), "--workers", "2", "--no-access-log"],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ),
    )  # fmt: skip
    try:
        wait_ready(url, proc, timeout=120)
        with httpx.Client(base_url=url, timeout=10) as c:
            for customer in (1, 2, 3):
                r = c.post("/v1/predict/credit", json={"entities": {"customer_id": customer}})
                assert r.status_code == 200
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        workers = [int(pid) for pid in children if "lib_lightgbm" in _maps(int(pid))]
        assert len(workers) == 2
        assert "lib_lightgbm" not in _maps(proc.pid)
    finally:
        stop_server(proc)
        log.close()
