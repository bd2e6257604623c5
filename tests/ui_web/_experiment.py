"""The quickstart's A/B step on a copy of the dashboard's ``full`` project: the example's
experiment metrics, champion vs challenger 50/50 through the rollout service, predictions
served by ``cairn serve``'s app, every answer's real label posted to ``/v1/outcomes``, and a
monitoring run per model version of the traffic (``cairn monitor run``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.auth.principal import Principal
from cairn.experiments.metrics import EXPERIMENTS_FILE
from cairn.monitoring.service import MonitoringOutcome
from cairn.quickstart._traffic import customers
from cairn.quickstart.experiment_demo import EXAMPLE_EXPERIMENTS
from cairn.quickstart.training_demo import MODEL_NAME
from tests.serving._client import TestClient

REQUESTS = 400
"""Predictions served during the A/B test (the rollout demo's A/B step serves as many)."""


@dataclass(frozen=True)
class AbTest:
    """What :func:`run_ab_test` did: the experiment's seed, the challenger's version and the
    monitoring runs of the A/B traffic."""

    root: Path
    seed: str
    challenger: str
    monitored: list[MonitoringOutcome]


def run_ab_test(source: Path, root: Path, author: Principal) -> AbTest:
    """Copy the project at ``source`` to ``root`` (``source`` stays as it is) and run an A/B
    test of its champion against its challenger there, acting as ``author``."""
    shutil.copytree(source, root)
    (root / EXPERIMENTS_FILE).write_text(EXAMPLE_EXPERIMENTS, encoding="utf-8")
    with Project.open(root) as project:
        challenger = project.registry.show(MODEL_NAME).model.aliases["challenger"]
        arms = [
            {"name": "champion", "model": f"{MODEL_NAME}@champion", "weight": 0.5},
            {"name": "challenger", "model": f"{MODEL_NAME}/{challenger}", "weight": 0.5},
        ]
        spec = project.rollouts.create(
            "credit",
            {"strategy": "ab", "arms": arms},
            reason="dashboard test: A/B test",
            principal=author,
            replace=True,
        ).spec
    with duckdb.connect() as con:
        labels = dict(
            con.execute(
                "SELECT customer_id, arg_max(defaulted, event_timestamp) FROM read_parquet(?) "
                "GROUP BY customer_id",
                [str(root / "data" / "applications.parquet")],
            ).fetchall()
        )
    with TestClient(build_app(root)) as server:
        outcomes = []
        for customer in customers(root)[:REQUESTS]:
            r = server.post("/v1/predict/credit", json={"entities": {"customer_id": customer}})
            assert r.status_code == 200, r.text
            if customer in labels:
                outcomes.append(
                    {"prediction_id": r.json()["prediction_id"], "label": int(labels[customer])}
                )
        posted = server.post("/v1/outcomes", json={"outcomes": outcomes})
        assert posted.status_code == 200, posted.text
    with Project.open(root) as project:
        monitored = project.monitoring.run_groups("credit", window="1h")
    return AbTest(root, spec.seed, challenger, monitored)
