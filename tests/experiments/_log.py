"""A seeded synthetic prediction log with outcomes, written as the serving layer writes it.

Rows follow ``cairn.serving.log_records.PREDICTION_SCHEMA``, in
``<root>/.cairn/predictions/*.parquet``; outcomes
follow ``OUTCOME_SCHEMA`` in ``<root>/.cairn/outcomes``. Each unit makes ``pre`` predictions
before ``START`` (the single-strategy pre-period) and ``post`` during the A/B test, with a
per-unit propensity so CUPED has something to explain. The defaults follow a latent risk;
the champion sees it with noise 0.7 (logit scale), a shadow challenger scoring every experiment
request with ``challenger_noise`` (sharper below 0.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.timeutil import to_micros
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA

START = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class SyntheticLog:
    """Where the log went and the arrays it was built from (for oracle computations)."""

    root: Path
    predictions: pa.Table
    outcomes: pa.Table


def write_log(
    root: Path,
    *,
    seed: int,
    units: int = 1500,
    arms: tuple[str, ...] = ("control", "treatment"),
    weights: tuple[float, ...] | None = None,
    lift: float = 0.5,
    pre: int = 1,
    post: int = 2,
    days: int = 20,
    label_share: float = 0.9,
    label_delay_days: float = 2.0,
    challenger_noise: float = 0.4,
    error_share: float = 0.01,
    with_shadow: bool = True,
    shadow_columns: bool = True,
    seed_column: str | None = None,
) -> SyntheticLog:
    """Write a log of ``units`` units; treatment arms shift the log-odds by ``lift``.

    ``seed_column`` is logged as the A/B rows' assignment ``seed`` (None: no seeds, as old logs).
    """
    rng = np.random.default_rng(seed)
    weights = weights or tuple(1.0 for _ in arms)
    share = np.asarray(weights, dtype=float) / sum(weights)
    arm_of = rng.choice(len(arms), size=units, p=share)
    propensity = rng.normal(0.0, 1.0, size=units)
    region = rng.choice(np.array(["north", "south", "east", "west", "island"]), size=units,
                        p=[0.35, 0.3, 0.2, 0.1, 0.05])  # fmt: skip
    rows: dict[str, list[object]] = {k: [] for k in PREDICTION_SCHEMA.names}
    outcome_rows: dict[str, list[object]] = {k: [] for k in OUTCOME_SCHEMA.names}
    start_us, day_us = to_micros(START), DAY // timedelta(microseconds=1)
    count = 0
    for phase, per_unit in (("pre", pre), ("post", post)):
        if per_unit == 0:
            continue
        unit = np.repeat(np.arange(units), per_unit)
        n = len(unit)
        offset = rng.uniform(0, days, size=n) * day_us
        times = (start_us - offset - 1) if phase == "pre" else (start_us + offset)
        arm_index = arm_of[unit]
        shift = np.where((arm_index > 0) & (phase == "post"), lift, 0.0)
        risk = propensity[unit] * 1.2 - 1.0 + rng.normal(0, 0.6, size=n)
        score = 1 / (1 + np.exp(-(risk + rng.normal(0, 0.7, size=n) - shift)))
        default = rng.uniform(size=n) < 1 / (1 + np.exp(-risk))
        latency = rng.gamma(2.0, 0.4, size=n) + np.where(arm_index > 0, 0.05, 0.0)
        error = rng.uniform(size=n) < error_share
        ids = [f"p{count + i}" for i in range(n)]
        count += n
        for i in range(n):
            u = int(unit[i])
            arm = arms[arm_index[i]] if phase == "post" else "main"
            strategy = "ab" if phase == "post" else "single"
            failed = "boom" if error[i] and phase == "post" else None
            _append_prediction(rows, ids[i], int(times[i]), arm, strategy, "credit-default", "1",
                               f"c{u}", str(region[u]), float(score[i]), float(latency[i]),
                               failed, False, seed_column if phase == "post" else None)  # fmt: skip
            if with_shadow and phase == "post":
                sharp = risk[i] + rng.normal(0, challenger_noise)
                _append_prediction(rows, ids[i], int(times[i]) + 5, arm, "ab", "credit-default",
                                   "2", f"c{u}", str(region[u]), float(1 / (1 + np.exp(-sharp))),
                                   float(latency[i] * 1.1), None, True)  # fmt: skip
            if rng.uniform() < label_share:
                observed = int(times[i] + rng.exponential(label_delay_days) * day_us)
                outcome_rows["prediction_id"].append(ids[i])
                outcome_rows["entity"].append(None)
                outcome_rows["event_time"].append(None)
                outcome_rows["deployment"].append("credit")
                outcome_rows["label"].append(float(default[i]))
                outcome_rows["observed_at"].append(observed)
    schema = PREDICTION_SCHEMA
    if not shadow_columns:
        schema = pa.schema([f for f in schema if f.name not in ("shadow", "error")])
        rows = {k: v for k, v in rows.items() if k in schema.names}
    table = pa.table({k: pa.array(rows[k], type=schema.field(k).type) for k in schema.names})
    outcomes = pa.table(
        {
            k: pa.array(outcome_rows[k], type=OUTCOME_SCHEMA.field(k).type)
            for k in OUTCOME_SCHEMA.names
        }
    )
    for folder, data in (("predictions", table), ("outcomes", outcomes)):
        path = root / ".cairn" / folder
        path.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, path / "part-00000.parquet")
    return SyntheticLog(root, table, outcomes)


def _append_prediction(
    rows: dict[str, list[object]],
    pid: str,
    time: int,
    arm: str,
    strategy: str,
    model: str,
    version: str,
    unit: str,
    region: str,
    score: float,
    latency: float,
    error: str | None,
    shadow: bool,
    seed: str | None = None,
) -> None:
    values: dict[str, object] = {
        "prediction_id": pid,
        "time": time,
        "deployment": "credit",
        "strategy": strategy,
        "arm": arm,
        "model_name": model,
        "model_version": version,
        "unit_id": unit,
        "entity": orjson.dumps({"customer_id": unit}).decode(),
        "features": orjson.dumps({"region": region, "income": 1000.0}).decode(),
        "score": score,
        "decision": "decline" if score >= 0.5 else "approve",
        "latency_ms": latency,
        "reason_codes": "[]",
        "explained": False,
        "fallback": None,
        "entity_unknown": False,
        "shadow": shadow,
        "error": error,
        "seed": seed,
        "exposed": True,
    }
    for key, column in rows.items():
        column.append(values.get(key))
