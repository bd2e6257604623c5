"""The quality step of the quickstart: example suites, a clean run, a broken batch halted.

:func:`write_example_suites` writes ``quality/*.yaml`` and the reference profiles the PSI and
label-rate checks compare against (built from the 2025 data: the example's "training
window"). :func:`run_quality_demo` validates each data file with its suite, keeps the results
in the project's metadata store, then injects faults into a copy of the applications and shows
the gate halting it. ``cairn.quickstart.printers`` renders the outcome.

Example
-------
>>> import tempfile
>>> from cairn.quickstart.example import create_example_project
>>> tmp = tempfile.TemporaryDirectory()
>>> project = create_example_project(tmp.name)
>>> sorted(p.name for p in write_example_suites(project.path))
['applications.json', 'applications.yaml', 'profiles.yaml', 'transactions.json', \
'transactions.yaml']
>>> demo = run_quality_demo(project.path)
>>> [r.verdict for r in demo.results], demo.broken.action.value
(['passed', 'passed', 'passed'], 'halt')
>>> tmp.cleanup()
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cairn.app.project import Project
from cairn.quality.errors import QualityGateError
from cairn.quality.gate import enforce
from cairn.quality.results import ValidationResult
from cairn.quality.runner import validate
from cairn.quality.spec import load_suite
from cairn.quickstart.example.suites import QUALITY_DIR, SUITES, write_example_suites


@dataclass(frozen=True)
class QualityDemo:
    """What the quality demo did: one result per example suite, and the halted broken batch."""

    path: Path
    results: list[ValidationResult]
    broken: ValidationResult
    halted: str
    """The QualityGateError message the broken batch raised."""
    faults: list[str]
    """The faults injected into the broken batch."""
    as_of: datetime
    """The time freshness was measured at (the end of the demo data)."""
    seconds: float


def run_quality_demo(project_path: str | Path) -> QualityDemo:
    """Validate the example data with its suites (results are kept in the project's metadata
    store), then show a broken batch of applications being halted."""
    root = Path(project_path).resolve()
    clock = time.perf_counter()
    if not (root / QUALITY_DIR / "applications.yaml").is_file():
        write_example_suites(root)
    store = Project.open(root).quality
    as_of = _data_end(root)
    results = []
    for name in SUITES:
        suite = load_suite(root / QUALITY_DIR / name)
        data = root / "data" / f"{suite.source}.parquet"
        results.append(validate(suite, data, label=f"data/{data.name}", now=as_of, store=store))
    broken, faults = broken_applications(root)
    result = validate(
        root / QUALITY_DIR / "applications.yaml",
        broken,
        label="broken batch of applications",
        now=as_of,
        store=store,
    )
    try:
        enforce(result, what="Training set")
        halted = ""
    except QualityGateError as exc:
        halted = str(exc)
    return QualityDemo(root, results, result, halted, faults, as_of, time.perf_counter() - clock)


def broken_applications(root: Path, seed: int = 11) -> tuple[pd.DataFrame, list[str]]:
    """A copy of the applications with faults a real feed produces (seeded)."""
    frame = pq.read_table(root / "data" / "applications.parquet").to_pandas()
    rng = np.random.default_rng(seed)
    n = len(frame)
    pick = [rng.choice(n, size=k, replace=False) for k in (12, 7, 25, 9)]
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame.loc[pick[0], "customer_id"] = pd.NA
    frame.loc[pick[1], "application_id"] = frame["application_id"].iloc[0]
    frame.loc[pick[2], "amount"] = -frame.loc[pick[2], "amount"]
    frame.loc[pick[3], "label_observed_at"] = frame.loc[pick[3], "event_timestamp"] - timedelta(
        days=1
    )
    frame["amount"] = np.where(frame["amount"] > 0, frame["amount"] * 2.5, frame["amount"])
    faults = [
        "12 applications without a customer id",
        "7 applications reusing the id of the first one",
        "25 negative amounts",
        "9 labels observed before the application",
        "amounts 2.5x larger than in the reference (drift)",
    ]
    return frame, faults


def _data_end(root: Path) -> datetime:
    table = pq.read_table(root / "data" / "transactions.parquet", columns=["created_timestamp"])
    newest = pd.Timestamp(table.column(0).to_pandas().max())
    return newest.to_pydatetime() + timedelta(hours=1)
