"""Predictions written into a project's log through the server's own log writer, at known
times, latencies, errors and fallbacks (so the Overview's numbers have an exact oracle)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from cairn.app.project import Project
from cairn.core.predictions import PredictionRecord
from cairn.core.timeutil import to_micros
from cairn.serving.log_records import PREDICTION_SCHEMA, prediction_row
from cairn.serving.prediction_log import SegmentLog


@dataclass(frozen=True)
class Traffic:
    """What was written inside the last hour before ``now`` (shadow rows excluded)."""

    now: datetime
    requests: int
    errors: int
    fallbacks: int
    p99_ms: float


def write_traffic(project: Project, deployment: str, now: datetime, seed: int = 21) -> Traffic:
    """120 predictions in the 40 minutes before ``now`` (every 10th an error, every 15th a
    fallback), 30 shadow rows beside them, and 40 predictions two hours earlier."""
    rng = np.random.default_rng(seed)
    log = SegmentLog(project.predictions.predictions_dir, PREDICTION_SCHEMA)
    latencies = rng.gamma(2.0, 3.0, size=120).round(3)
    inside: list[float] = []
    n = 0

    def record(at: datetime, latency: float, **extra: object) -> None:
        nonlocal n
        n += 1
        row = PredictionRecord(
            prediction_id=f"p{n}",
            time=to_micros(at),
            deployment=deployment,
            model_name="credit-default",
            model_version="1",
            entity={"customer_id": n},
            features={},
            score=0.3,
            decision="approve",
            latency_ms=latency,
            **extra,  # type: ignore[arg-type]
        )
        log.append(prediction_row(row))

    for i, latency in enumerate(latencies):
        at = now - timedelta(seconds=10 + 20 * i)
        error = "boom" if i % 10 == 0 else None
        fallback = "defaults" if i % 15 == 0 else None
        record(at, float(latency), error=error, fallback=fallback)
        inside.append(float(latency))
        if i % 4 == 0:
            record(at, 500.0, shadow=True)
    for i in range(40):
        record(now - timedelta(hours=2, seconds=i), 900.0)
    log.close()
    return Traffic(
        now,
        requests=120,
        errors=len(range(0, 120, 10)),
        fallbacks=len(range(0, 120, 15)),
        p99_ms=float(np.quantile(inside, 0.99)),
    )
