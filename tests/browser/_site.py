"""The project the browser tests (and ``scripts/screenshot_dashboard.py``) serve: the example
credit project after the training and monitoring demos, as the quickstart leaves it, served by
a real ``cairn serve`` with a viewer, a deployer and an approver token, and real traffic sent
through ``/v1/predict``."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from cairn.quickstart.example import create_example_project
from cairn.quickstart.monitoring_demo import run_monitoring_demo
from cairn.quickstart.training_demo import run_training_demo

__all__ = ["TOKENS", "build_project", "send_traffic", "server_env"]

TOKENS = {
    "viewer": ("vera", "browser-viewer-token"),
    "deployer": ("dana", "browser-deployer-token"),
    "approver": ("abel", "browser-approver-token"),
}
"""Role -> (name, token), handed to ``cairn serve`` through ``CAIRN_ADMIN_TOKENS``."""


def server_env() -> dict[str, str]:
    """The environment that gives ``cairn serve`` the three tokens of :data:`TOKENS`."""
    tokens = ",".join(f"{role}:{name}:{token}" for role, (name, token) in TOKENS.items())
    return {"CAIRN_ADMIN_TOKENS": tokens, "NO_COLOR": "1"}


def build_project(path: Path, mlflow_db: Path | None = None) -> Path:
    """The example project at ``path`` after the training and monitoring demos.

    ``mlflow_db``: an empty, migrated MLflow database to start from (saves its migrations).
    """
    create_example_project(path)
    if mlflow_db is not None:
        (path / ".cairn").mkdir(exist_ok=True)
        shutil.copy(mlflow_db, path / ".cairn" / "mlflow.db")
    demo = run_training_demo(path, commit=False)
    assert demo.team is not None
    run_monitoring_demo(path)
    return path


def send_traffic(url: str, deployment: str = "credit", count: int = 40) -> int:
    """``count`` predictions through ``POST /v1/predict/{deployment}``, one customer each;
    returns how many were answered 200."""
    answered = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        for customer in range(1, count + 1):
            body = {"entities": {"customer_id": customer}}
            response = client.post(f"/v1/predict/{deployment}", json=body)
            answered += response.status_code == 200
    return answered
