"""The main job: the whole lifecycle on the embedded defaults, step by step.

Each capability adds its step here, so ``cairn quickstart`` always shows everything that works.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cairn.app.consistency import ConsistencyReport, check_consistency, status
from cairn.app.feature_store import ApplyResult
from cairn.app.project import Project
from cairn.core.config import CONFIG_FILE, STATE_DIR
from cairn.core.errors import ConfigError
from cairn.core.manifest import TrainingSetManifest
from cairn.online import MaterializeResult
from cairn.quickstart import DEFAULT_DIR
from cairn.quickstart._steps import Steps
from cairn.quickstart.dashboard_demo import DashboardDemo
from cairn.quickstart.experiment_demo import ExperimentDemo
from cairn.quickstart.families_demo import FamiliesDemo
from cairn.quickstart.monitoring_demo import MonitoringDemo
from cairn.quickstart.quality_demo import QualityDemo, run_quality_demo
from cairn.quickstart.retraining_demo import RetrainingDemo
from cairn.quickstart.rollout_demo import RolloutDemo
from cairn.quickstart.serving_demo import ServingDemo
from cairn.quickstart.streaming_demo import StreamingDemo
from cairn.quickstart.training_demo import TrainingDemo


@dataclass
class QuickstartReport:
    """What the quickstart did, for printing."""

    path: Path
    steps: list[tuple[str, float]] = field(default_factory=list)
    applied: ApplyResult | None = None
    training_set: pd.DataFrame | None = None
    training_set_path: Path | None = None
    feature_columns: list[str] = field(default_factory=list)
    manifest: TrainingSetManifest | None = None
    late_rows_hidden: int = 0
    materialized: list[MaterializeResult] = field(default_factory=list)
    online_sample: pd.DataFrame | None = None
    online_at: datetime | None = None
    online_read_us: float | None = None
    consistency: list[ConsistencyReport] = field(default_factory=list)
    status: list[dict[str, Any]] = field(default_factory=list)
    training: TrainingDemo | None = None
    quality: QualityDemo | None = None
    serving: ServingDemo | None = None
    monitoring: MonitoringDemo | None = None
    rollout: RolloutDemo | None = None
    experiment: ExperimentDemo | None = None
    streaming: StreamingDemo | None = None
    retraining: RetrainingDemo | None = None
    families: FamiliesDemo | None = None
    dashboard: DashboardDemo | None = None


def run_quickstart(
    path: Path = DEFAULT_DIR, *, seed: int = 7, on_step: Callable[[str], None] | None = None
) -> QuickstartReport:
    """Scaffold the example project (again) in ``path``, apply it, build a training set,
    materialize the online store, read it back and check it against the offline join."""
    from cairn.quickstart.example import FEATURE_REFS, create_example_project, entity_frame

    path = Path(path)
    report = QuickstartReport(path=path.resolve())

    step = Steps(on_step, report.steps)

    with step("init: example credit project"):
        _check_reusable(path)
        shutil.rmtree(path / STATE_DIR, ignore_errors=True)  # every run starts from scratch
        project = create_example_project(path, seed=seed, force=True)
    opened = Project.open(path)
    store = opened.features
    with step("quality: validate data, halt a broken batch"):
        report.quality = run_quality_demo(path)
    with step("apply: features.py"):
        report.applied = store.apply(opened.definitions())
    with step("training set: point-in-time join"):
        entities = entity_frame(path)
        job = store.get_historical_features(entities, FEATURE_REFS)
        frame = job.to_df()
        out = path / "training" / "training_set.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out, index=False)
        report.manifest = job.manifest
        (out.with_suffix(".manifest.json")).write_text(report.manifest.to_json())
    report.training_set = frame
    report.training_set_path = out
    report.feature_columns = [r.partition(":")[2] for r in FEATURE_REFS]
    report.late_rows_hidden = _late_rows(path)

    end = project.data_end + timedelta(microseconds=1)  # every event of the demo data
    with step("materialize: online store"):
        report.materialized = store.materialize_incremental(end)
    with step("online read: latest applicants"):
        latest = entities.tail(3)["customer_id"].astype(int).tolist()
        report.online_at = end
        sample = store.get_online_features(FEATURE_REFS, {"customer_id": latest}, at=end)
        report.online_sample = sample.to_df()
        one = [{"customer_id": latest[-1]}]
        timings = []
        for _ in range(200):
            began = time.perf_counter()
            store.get_online_features(FEATURE_REFS, one, at=end)
            timings.append(time.perf_counter() - began)
        report.online_read_us = statistics.median(timings) * 1e6
    with step("consistency: online == offline"):
        report.consistency = [
            check_consistency(store, view.name, sample=200) for view in store.list_feature_views()
        ]
    report.status = status(store)

    from cairn.quickstart.training_demo import run_training_demo

    report.training = run_training_demo(path, on_step=on_step)

    from cairn.quickstart.serving_demo import run_serving_demo

    with step("serve: predictions over HTTP, reason codes, outcomes, log"):
        report.serving = run_serving_demo(path)

    from cairn.quickstart.monitoring_demo import run_monitoring_demo

    with step("monitor: a stable and a drifted month, drift and performance"):
        report.monitoring = run_monitoring_demo(path)

    from cairn.quickstart.rollout_demo import run_rollout_demo

    with step("rollouts: shadow, A/B, canary promoted, broken canary rolled back"):
        report.rollout = run_rollout_demo(path, team=report.training.team, on_step=on_step)

    from cairn.quickstart.experiment_demo import run_experiment_demo

    with step("experiments: A/B analysis, champion vs shadow challenger"):
        report.experiment = run_experiment_demo(path)

    from cairn.quickstart.streaming_demo import run_streaming_demo

    with step("streaming: a card payment in a prediction a second later, parity"):
        report.streaming = run_streaming_demo(path)

    from cairn.quickstart.retraining_demo import run_retraining_demo

    assert report.training.team is not None
    with step("retraining: the drifted month retrains, gated, shadow, proposed"):
        report.retraining = run_retraining_demo(path, team=report.training.team)

    from cairn.quickstart.families_demo import run_families_demo

    with step("families: a scorecard beside the booster, a decline, counterfactuals"):
        report.families = run_families_demo(path, team=report.training.team)

    from cairn.quickstart.dashboard_demo import run_dashboard_demo

    with step("dashboard: every page over what the steps produced"):
        report.dashboard = run_dashboard_demo(path)
    return report


def _late_rows(path: Path) -> int:
    """Applications for which a profile row with an earlier event time was only known later:
    a join on event time alone would have leaked it into the training set."""
    data = path / "data"
    sql = (
        "SELECT count(*) FROM read_parquet($apps) a WHERE EXISTS ("
        "SELECT 1 FROM read_parquet($profiles) p "
        "WHERE p.customer_id = a.customer_id AND p.event_timestamp < a.event_timestamp "
        "AND p.created_timestamp > a.event_timestamp)"
    )
    params = {
        "apps": str(data / "applications.parquet"),
        "profiles": str(data / "profiles.parquet"),
    }
    with duckdb.connect() as con:
        return int(con.execute(sql, params).fetchall()[0][0])


def _check_reusable(path: Path) -> None:
    """Refuse to overwrite a folder that is not empty and not a Cairn project."""
    if path.exists() and any(path.iterdir()) and not (path / CONFIG_FILE).is_file():
        raise ConfigError(
            f"quickstart folder {path.resolve()} is not empty and holds no {CONFIG_FILE}; "
            f"choose an empty or new folder (cairn quickstart DIR)."
        )
