"""The projects the dashboard benchmark renders: the quickstart project, then the same project
grown to a thousand registered versions and a hundred deployments.

The quickstart project is what ``cairn quickstart`` leaves (the example credit project after
the training and monitoring demos) with an hour of predictions of ``credit`` in its log. Grown:
``models`` more models with ``versions`` versions each, registered in MLflow from runs with
metrics (as ``cairn train`` registers them, ``model.registered`` in the audit log), every third
version approved by the risk officer, each model's newest approved version promoted to
champion and its newest version made challenger (through the registry's governance, so the
audit log and its index tables hold what a real project holds); ``deployments`` deployments,
one in four with a canary of the challenger, and an hour of predictions for each (a canary's
logged as serving logs a canary: its assignment seed, ``strategy`` canary, each unit in the
control or the canary arm by the canary's first-stage weight, so the Experiments page lists
each canary as an experiment); then
refused self-reviews (``governance.refused``, as the four-eyes rule writes them) until the
audit log holds ``audit_entries`` entries.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cairn.app.project import Project
from cairn.auth.principal import Principal
from cairn.core.deployments import DEPLOYMENTS_FILE
from cairn.core.predictions import ModelRef, PredictionRecord
from cairn.core.timeutil import to_micros
from cairn.registry.errors import GovernanceError
from cairn.registry.refusals import record_refusal
from cairn.rollouts.spec import RolloutSpec
from cairn.serving.log_records import PREDICTION_SCHEMA, prediction_row
from cairn.serving.prediction_log import SegmentLog


@dataclass(frozen=True)
class Grown:
    """What :func:`grow` added (for the report)."""

    models: int
    versions: int
    deployments: int
    canaries: int
    predictions: int
    audit_entries: int
    seconds: float


def quickstart(path: Path) -> tuple[Principal, Principal]:
    """The quickstart project at ``path`` with an hour of ``credit`` traffic; returns the demo's
    author (deployer) and risk officer (approver)."""
    from cairn.quickstart.example import create_example_project
    from cairn.quickstart.monitoring_demo import run_monitoring_demo
    from cairn.quickstart.training_demo import run_training_demo

    if path.exists():
        shutil.rmtree(path)
    create_example_project(path)
    demo = run_training_demo(path, commit=False)
    assert demo.team is not None
    run_monitoring_demo(path)
    with Project.open(path) as project:
        traffic(project, {"credit": ("credit-default", "1")}, 240, datetime.now(UTC))
    return demo.team.author, demo.team.officer


def grow(
    path: Path,
    author: Principal,
    officer: Principal,
    *,
    models: int,
    versions: int,
    deployments: int,
    per_deployment: int,
    audit_entries: int,
) -> Grown:
    """Add the models, versions, reviews, aliases, deployments and traffic described above,
    then refused self-reviews until the audit log holds ``audit_entries`` entries."""
    began = time.perf_counter()
    rng = np.random.default_rng(21)
    names = [f"segment-{m:02d}" for m in range(models)]
    with Project.open(path) as project:
        tracker, registry = project.tracker, project.registry
        client, experiment = tracker.client, tracker.experiment_id()
        for name in names:
            for v in range(1, versions + 1):
                run = client.create_run(experiment, run_name=f"{name}-{v}")
                run_id = run.info.run_id
                auc = float(0.70 + 0.1 * rng.random())
                for key, value in (("valid_auc", auc), ("valid_ks", auc - 0.35),
                                   ("train_rows", 20_000.0 + v)):  # fmt: skip
                    client.log_metric(run_id, key, value)
                client.set_tag(run_id, "cairn.author", author.name)
                client.set_terminated(run_id, "FINISHED")
                mv = registry.mlflow.register(
                    name, f"runs:/{run_id}/model", run_id=run_id, tags={"cairn.author": author.name}
                )
                registry.audit.append(
                    author.name, "model.registered", f"{name}/{mv.version}", {"run_id": run_id}
                )
                if v % 3 == 2:
                    registry.approve(name, mv.version, principal=officer,
                                     ticket="MRR-2026-0100", decision="approve")  # fmt: skip
            champion = max(v for v in range(1, versions + 1) if v % 3 == 2)
            registry.promote(name, champion, principal=author, reason="MRR-2026-0100")
            if versions > champion:
                registry.set_alias(name, "challenger", versions, principal=author,
                                   reason="MRR-2026-0101")  # fmt: skip
        deps = {f"seg-{d:03d}": names[d % models] for d in range(deployments)}
        text = (path / DEPLOYMENTS_FILE).read_text(encoding="utf-8")
        text += "".join(f"  {d}:\n    model: {m}@champion\n" for d, m in deps.items())
        (path / DEPLOYMENTS_FILE).write_text(text, encoding="utf-8")
    canaries: dict[str, RolloutSpec] = {}
    with Project.open(path) as project:  # deployments.yaml read afresh
        for i, (dep, model) in enumerate(deps.items()):
            if i % 4 == 0 and project.registry.mlflow.get_model(model).aliases.get("challenger"):
                canaries[dep] = project.rollouts.create(
                    dep,
                    {"strategy": "canary", "candidate": f"{model}@challenger",
                     "stages": [10, 50, 100]},
                    principal=author, reason="MRR-2026-0102",
                ).spec  # fmt: skip
        served = {d: (m, project.registry.mlflow.get_model(m).aliases["champion"])
                  for d, m in deps.items()}  # fmt: skip
        predictions = traffic(project, served, per_deployment, datetime.now(UTC), canaries)
        for n in range(max(0, audit_entries - project.audit.count())):
            name = names[n % models]
            refused = GovernanceError(f"{author.name} trained this version: four eyes")
            record_refusal(project.audit, author, "approve", f"{name}/{1 + n % versions}", refused)
        entries = project.audit.count()
    return Grown(models, models * versions, deployments, len(canaries), predictions, entries,
                 time.perf_counter() - began)  # fmt: skip


def traffic(
    project: Project,
    served: dict[str, tuple[str, str]],
    per_deployment: int,
    now: datetime,
    canaries: Mapping[str, RolloutSpec] | None = None,
) -> int:
    """``per_deployment`` predictions of each deployment spread over the hour before ``now``
    (1 in 20 an error, 1 in 30 a fallback, 1 in 4 with a shadow score beside it); a deployment
    in ``canaries`` has its rows routed by that canary (its seed, its arms by their weights,
    the canary arm scored by the pinned candidate). Returns how many rows were written."""
    rng = np.random.default_rng(7)
    log = SegmentLog(project.predictions.predictions_dir, PREDICTION_SCHEMA)
    n = 0
    for deployment, (model, version) in served.items():
        canary = (canaries or {}).get(deployment)
        for i in range(per_deployment):
            at = now - timedelta(seconds=float(3599 * rng.random()))
            extra: dict[str, Any] = {}
            scored = version
            if canary is not None:
                arm = "canary" if rng.random() < canary.weights()["canary"] else "control"
                if arm == "canary":
                    scored = ModelRef.parse(canary.arm("canary").model).version or version
                extra.update(strategy="canary", arm=arm, seed=canary.seed, unit_id=f"u{n}")
            if i % 20 == 0:
                extra["error"] = "timeout"
            if i % 30 == 0:
                extra["fallback"] = "defaults"
            rows = [extra] + ([{"shadow": True}] if i % 4 == 0 else [])
            for more in rows:
                n += 1
                record = PredictionRecord(
                    prediction_id=f"b{n}",
                    time=to_micros(at),
                    deployment=deployment,
                    model_name=model,
                    model_version=scored,
                    entity={"customer_id": n},
                    features={},
                    score=float(rng.random()),
                    decision="approve",
                    latency_ms=float(rng.gamma(2.0, 3.0)),
                    **more,
                )
                log.append(prediction_row(record))
    log.close()
    return n
