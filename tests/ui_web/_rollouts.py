"""Rollouts for the Deployment page's tests, built through the project's own services on a copy
of the shared ``full`` project (which other test modules read unchanged): more deployments in
``deployments.yaml``, rollouts made by :class:`cairn.rollouts.RolloutService` as the demo's
people, arm traffic written through the server's log writer, and API tokens per role."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cairn.app.project import Project
from cairn.core.deployments import DEPLOYMENTS_FILE
from cairn.core.predictions import PredictionRecord
from cairn.core.timeutil import to_micros
from cairn.serving.admin import AdminTokens
from cairn.serving.log_records import PREDICTION_SCHEMA, prediction_row
from cairn.serving.prediction_log import SegmentLog
from cairn.ui.web import standalone_app
from tests.serving._client import TestClient
from tests.ui_web.conftest import Full

__all__ = ["Tokens", "copy_project", "csrf_of", "dashboard", "make_tokens", "write_arms"]

MODEL = "credit-default"


@dataclass(frozen=True)
class Tokens:
    """Secrets of a viewer, a deployer and an approver of the copied project."""

    viewer: str
    deployer: str
    approver: str


def copy_project(full: Full, dest: Path, extra: tuple[str, ...] = ()) -> Project:
    """A copy of the ``full`` project at ``dest`` with deployments ``extra`` added (each a copy
    of ``credit`` under that name)."""
    shutil.copytree(full.project.root, dest)
    path = dest / DEPLOYMENTS_FILE
    text = path.read_text(encoding="utf-8")
    body = text.split("  credit:\n", 1)[1]
    for name in extra:
        text += f"  {name}:\n{body}"
    path.write_text(text, encoding="utf-8")
    return Project.open(dest)


def make_tokens(project: Project, full: Full) -> Tokens:
    """One API token per role, created by the demo's admin."""
    admin = full.team.admin
    secrets = [
        project.tokens.create(holder, role, created_by=admin)[1]  # type: ignore[arg-type]
        for holder, role in (("vic", "viewer"), ("dana", "deployer"), ("olga", "approver"))
    ]
    return Tokens(*secrets)


def dashboard(project: Project) -> TestClient:
    """``cairn ui`` on a loopback address: pages open, actions checked against the project's
    API tokens (what ``cairn ui`` hands the dashboard)."""
    tokens = AdminTokens(authenticate=project.authenticate)
    return TestClient(standalone_app(project, sign_in=tokens.require))


def write_arms(
    project: Project,
    deployment: str,
    *,
    strategy: str,
    seed: str,
    arms: dict[str, tuple[str, int]],
    start: datetime,
    shadow: str | None = None,
) -> None:
    """``arms[arm] = (version, units)`` primary predictions, one unit each, 100 µs apart
    from ``start``; with ``shadow`` (a version), a shadow score beside every third one whose
    decision differs every fourth time."""
    log = SegmentLog(project.predictions.predictions_dir, PREDICTION_SCHEMA)
    i = 0
    for arm, (version, units) in arms.items():
        for k in range(units):
            i += 1
            at = to_micros(start + timedelta(microseconds=100 * i))
            pid = f"{deployment}-{arm}-{k}"
            decision = "decline" if k % 5 == 0 else "approve"
            common = {"time": at, "deployment": deployment, "model_name": MODEL,
                      "entity": {"customer_id": i}, "features": {}}  # fmt: skip
            log.append(
                prediction_row(
                    PredictionRecord(
                        prediction_id=pid, model_version=version, score=0.2 + (k % 5) / 10,
                        decision=decision, latency_ms=5.0 + k % 7, strategy=strategy, arm=arm,
                        seed=seed, unit_id=f"u-{arm}-{k}", **common,
                    )
                )
            )  # fmt: skip
            if shadow is not None and k % 3 == 0:
                flipped = "approve" if decision == "decline" else "decline"
                other = flipped if k % 4 == 0 else decision
                log.append(
                    prediction_row(
                        PredictionRecord(
                            prediction_id=pid, model_version=shadow, score=0.25 + (k % 5) / 10,
                            decision=other, latency_ms=6.0, strategy=strategy,
                            arm=f"shadow:{MODEL}@challenger", seed=seed, shadow=True, **common,
                        )
                    )
                )  # fmt: skip
    log.close()


def csrf_of(html: str) -> str:
    """The hidden ``csrf`` field of a confirmation page."""
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found is not None
    return found[1]
