"""The monitoring part of the quickstart: a stable month, a drifted month, and what monitoring
says about each.

On a project where :func:`cairn.quickstart.training_demo.run_training_demo` has run (a
``credit-default@champion`` with its reference profile), this writes two 30-day months of
traffic for the deployment ``credit`` into the prediction log, ending at the start of today
(UTC):

* **stable month** — applications drawn (with replacement, seeded) from the held-out
  validation rows of the training set, with their point-in-time features;
* **drifted month** — another draw of the same rows, with every applicant's ``income`` halved
  (a downturn), 30 % of them in a job category the model never saw, ``gig`` (the example
  model has no merchant-category input, so the new category goes to ``job``), and half of the
  debt-free applicants owing a debt (``debt`` is zero for most applicants: its reference mass
  sits on one value, which quantile bins alone would not see move).

Every row is scored by the real champion booster (so score drift is real), logged as a
prediction record with a decision at the deployment's threshold, and most stable-month rows
get their real label (two thirds by prediction id, the rest by customer and event time), while
only 30 % of the drifted month is labeled yet. Monitoring then runs on both months: the stable
month flags nothing and its performance is judged against the training baseline; the drifted
month flags exactly ``debt``, ``income``, ``job`` and the score, and its performance is
immature. The
report is written to ``monitor.html``.

Income is halved rather than raised: the champion's income effect flattens above the
reference's upper quantiles, so doubling incomes moves the score PSI only to about 0.06 — a
real shift monitoring rightly would not call score drift — while halving them moves it well
past 0.25.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.app.model_loader import RegistryModelLoader
from cairn.app.project import Project
from cairn.core.deployments import DEPLOYMENTS_FILE
from cairn.core.predictions import Outcome, PredictionRecord
from cairn.core.timeutil import floor_micros, from_micros, parse_duration, to_micros, utcnow
from cairn.monitoring.service import MonitoringOutcome
from cairn.quickstart.example.deployments import write_example_deployments
from cairn.serving.log_records import (
    OUTCOME_SCHEMA,
    PREDICTION_SCHEMA,
    outcome_row,
    prediction_row,
)
from cairn.serving.models import ScoringModel
from cairn.training import TrainConfig, build_training_set
from cairn.training.split import split_rows

DEPLOYMENT = "credit"
MONTH = "30d"
ROWS = 1000
INCOME_FACTOR = 0.5
NEW_JOB, NEW_JOB_SHARE = "gig", 0.3
NEW_DEBT_SHARE = 0.5
"""Of the drifted month's debt-free applicants, the share that now owe (a debt drawn from those
who already did): most applicants owe nothing, so ``debt`` is an indicator-like column whose
reference mass sits on one value."""
LABELED = {"stable": 0.9, "drifted": 0.3}
SEED = 7
LABEL_DELAY = 20 * 86_400_000_000
REPORT = "monitor.html"


@dataclass(frozen=True)
class MonitoringDemo:
    """What the monitoring demo did."""

    path: Path
    stable: MonitoringOutcome
    drifted: MonitoringOutcome
    report: Path
    predictions: int
    outcomes: int
    changes: list[str]
    """What was changed in the drifted month."""
    seconds: float


def run_monitoring_demo(project_path: str | Path, *, rows: int = ROWS) -> MonitoringDemo:
    """Simulate a stable and a drifted month of ``credit`` traffic, monitor both, report."""
    clock = time.perf_counter()
    root = Path(project_path).resolve()
    if not (root / DEPLOYMENTS_FILE).is_file():
        write_example_deployments(root)
    opened = Project.open(root)
    project = opened.monitoring
    target = project.target(DEPLOYMENT)
    model = RegistryModelLoader(opened.tracker, opened.registry).load(
        target.deployment.model, target.model_version
    )
    held_out = _held_out(opened)
    log = opened.predictions
    month = parse_duration(MONTH)
    end = floor_micros(to_micros(utcnow()), parse_duration("1d"))
    rng = np.random.default_rng(SEED)
    stable = held_out.iloc[rng.integers(0, len(held_out), rows)].reset_index(drop=True)
    drifted = held_out.iloc[rng.integers(0, len(held_out), rows)].reset_index(drop=True)
    drifted["income"] = drifted["income"] * INCOME_FACTOR
    gig = rng.random(rows) < NEW_JOB_SHARE
    drifted.loc[gig, "job"] = NEW_JOB
    debt = drifted["debt"]
    owing = debt[debt > 0].to_numpy()
    newly = ((debt == 0) & (rng.random(rows) < NEW_DEBT_SHARE)).to_numpy()
    drifted.loc[newly, "debt"] = rng.choice(owing, int(newly.sum()))
    zero_share = (float((stable["debt"] == 0).mean()), float((drifted["debt"] == 0).mean()))
    logged = labeled = 0
    for name, frame, start in (
        ("stable", stable, end - 2 * month),
        ("drifted", drifted, end - month),
    ):
        records = _records(frame, model, target.deployment.threshold, start, month, rng)
        _write(
            log.predictions_dir,
            f"monitoring-demo-{name}",
            [prediction_row(r) for r in records],
            PREDICTION_SCHEMA,
        )
        outcomes = _outcomes(records, frame, LABELED[name], end - 1, rng)
        _write(
            log.outcomes_dir,
            f"monitoring-demo-{name}",
            [outcome_row(o) for o in outcomes],
            OUTCOME_SCHEMA,
        )
        logged += len(records)
        labeled += len(outcomes)
    first = project.run(DEPLOYMENT, window=MONTH, as_of=from_micros(end - month))
    second = project.run(DEPLOYMENT, window=MONTH, as_of=from_micros(end))
    report = project.report(REPORT, deployment=DEPLOYMENT)
    changed = [
        f"income x{INCOME_FACTOR:g} for every applicant",
        f"job = {NEW_JOB!r} (a level the model never saw) for {int(gig.sum())} of {rows}",
        f"debt: {int(newly.sum())} debt-free applicants now owe (zero share "
        f"{zero_share[0]:.0%} -> {zero_share[1]:.0%}; a point mass PSI must see)",
    ]
    return MonitoringDemo(
        root, first, second, report, logged, labeled, changed, time.perf_counter() - clock
    )


def _held_out(project: Project) -> pd.DataFrame:
    """The training set's validation rows (the rows the reference profile describes)."""
    config = TrainConfig.from_yaml(project.root / "train.yaml")
    frame = build_training_set(config, project.features).frame
    split = split_rows(config.parts, frame["event_timestamp"])
    return frame.iloc[split.validation].reset_index(drop=True)


def _records(
    frame: pd.DataFrame,
    model: ScoringModel,
    threshold: float,
    start: int,
    width: int,
    rng: np.random.Generator,
) -> list[PredictionRecord]:
    inputs = [
        {str(k): _plain(v) for k, v in row.items()}
        for row in frame[model.features].to_dict(orient="records")
    ]
    scores = model.score(model.matrix(inputs))
    times = np.sort(start + rng.integers(0, width, len(frame)))
    ids = rng.integers(0, 2**63, (len(frame), 2))
    out = []
    for i, features in enumerate(inputs):
        customer = int(frame["customer_id"].iloc[i])
        score = float(scores[i])
        out.append(
            PredictionRecord(
                prediction_id=str(uuid.UUID(int=(int(ids[i, 0]) << 64) | int(ids[i, 1]))),
                time=int(times[i]),
                deployment=DEPLOYMENT,
                model_name=model.name,
                model_version=model.version,
                entity={"customer_id": customer},
                features=features,
                score=score,
                decision="decline" if score >= threshold else "approve",
                latency_ms=0.0,
                unit_id=str(customer),
            )
        )
    return out


def _outcomes(
    records: list[PredictionRecord],
    frame: pd.DataFrame,
    share: float,
    until: int,
    rng: np.random.Generator,
) -> list[Outcome]:
    """Real labels for ``share`` of the predictions, observed 20 days after each (or just
    before ``until``): two thirds by prediction id, the rest by customer and event time."""
    chosen = np.flatnonzero(rng.random(len(records)) < share)
    out = []
    for k, i in enumerate(chosen):
        r = records[i]
        label = float(frame["defaulted"].iloc[i])
        at = min(r.time + LABEL_DELAY, until)
        if k % 3 == 2:
            out.append(
                Outcome(label, at, entity=r.entity, event_time=r.time, deployment=DEPLOYMENT)
            )
        else:
            out.append(Outcome(label, at, prediction_id=r.prediction_id, deployment=DEPLOYMENT))
    return out


def _write(folder: Path, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    """One Parquet segment, replaced whole on a rerun (written aside, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    partial = folder / f".{name}.parquet.tmp"
    pq.write_table(table, partial)
    partial.replace(folder / f"{name}.parquet")


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: NaN and NA as None, numpy numbers as Python ones."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime):
        return value.isoformat()
    return value
