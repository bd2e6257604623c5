"""Helpers of the kill -9 tests: a project over one stream source, `cairn stream run` as a real
process, a paced producer that records every acknowledged event, and the final checks (no
duplicate, no gap, online equal to batch, status caught up)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from cairn import FeatureStore
from cairn.features.stream_source import StreamSource
from tests.streams._parity import AGGREGATIONS, FEATURES, _same, apply_view

SOURCE = "txns"
KEYS = 40
_CLI = "import sys; from cairn.cli.main import main; sys.argv[0] = 'cairn'; main()"


def make_project(
    root: Path,
    project: str,
    source: StreamSource,
    online_url: str | None,
    *,
    database_url: str | None = None,
) -> FeatureStore:
    """A project in ``root`` with the ``velocity`` view over ``source`` (its metadata and
    partition locks on ``database_url`` when given)."""
    text = f"project: {project}\n"
    if database_url is not None:
        text += f"database: {database_url}\n"
    if online_url is not None:
        text += f"online:\n  url: {online_url}\n"
    (root / "cairn.yaml").write_text(text)
    store = FeatureStore(root)
    apply_view(store, source)
    return store


def cli(root: Path, *args: str) -> str:
    """Run ``cairn ARGS --repo ROOT`` in this process (no start-up cost); returns its output,
    fails with it on a non-zero exit."""
    from typer.testing import CliRunner

    from cairn.cli.main import app

    done = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*args, "--repo", str(root)])
    if done.exit_code != 0:
        raise AssertionError(
            f"cairn {' '.join(args)} failed ({done.exit_code}):\n{done.output}"
        ) from done.exception
    return done.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class Processor:
    """One ``cairn stream run`` process (output in ``out``)."""

    proc: subprocess.Popen[bytes]
    out: Path
    database_url: str | None = None
    """The project's PostgreSQL database (its locks are advisory locks there), or None."""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def batches(self) -> int:
        """Micro-batches this process reported (one line each)."""
        return sum(
            1 for line in self.output().splitlines() if f"{SOURCE}: " in line and " landed" in line
        )

    def output(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def waits_on_lock(self) -> bool:
        """The process has a run-lock file open (``<metadata db>.locks/``): it holds the lock
        or waits for it."""
        if self.database_url is not None:
            return _pg_lock_tries(self.database_url) > 0
        fds = Path(f"/proc/{self.proc.pid}/fd")
        try:
            return any(".locks/" in os.readlink(f) for f in fds.iterdir())
        except OSError:  # exited, or a descriptor closed while listing
            return False

    def kill9(self) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _pg_lock_tries(url: str) -> int:
    """Sessions of the database of ``url`` waiting for an advisory lock: a standby tries
    ``pg_try_advisory_lock`` every poll, in a transaction it leaves open until it holds one
    (the holder's committed right after taking it)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state = 'idle in transaction'"
                        " AND query LIKE 'SELECT pg_try_advisory_lock%'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


class Processors:
    """Starts ``cairn stream run`` processes and kills whatever is left at the end."""

    def __init__(self, root: Path, logs: Path, database_url: str | None = None) -> None:
        self.root = root
        self.logs = logs
        self.database_url = database_url
        self.all: list[Processor] = []

    def start(self, *extra: str) -> Processor:
        n = len(self.all)
        out = self.logs / f"processor-{n}.log"
        with out.open("wb") as handle:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _CLI,
                    "stream",
                    "run",
                    "--repo",
                    str(self.root),
                    "--max-batch",
                    "200",
                    "--poll",
                    "0.05",
                    *extra,
                ],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=_env(),
            )
        p = Processor(proc, out, self.database_url)
        self.all.append(p)
        return p

    def close(self) -> None:
        for p in self.all:
            if p.alive():
                p.kill9()

    def failures(self) -> list[str]:
        """Output of every process that exited by itself with an error."""
        return [
            f"processor {i} (pid {p.pid}) exited {p.proc.returncode}:\n{p.output()}"
            for i, p in enumerate(self.all)
            if p.proc.returncode not in (None, 0, -signal.SIGKILL)
        ]


@contextmanager
def processors(root: Path, logs: Path, database_url: str | None = None) -> Iterator[Processors]:
    logs.mkdir(parents=True, exist_ok=True)
    group = Processors(root, logs, database_url)
    try:
        yield group
    finally:
        group.close()


def landed_folder(root: Path) -> Path:
    return root / "data" / "streams" / SOURCE


def landed_rows(root: Path) -> int:
    """Rows published to the batch source so far (Parquet footers only)."""
    total = 0
    for f in landed_folder(root).glob("*.parquet"):
        try:
            total += pq.read_metadata(f).num_rows
        except FileNotFoundError:  # pragma: no cover - files are only added
            continue
    return total


def landed_ids(root: Path) -> list[int]:
    ids: list[int] = []
    for f in sorted(landed_folder(root).glob("*.parquet")):
        ids.extend(pq.read_table(f, columns=["event_id"]).column("event_id").to_pylist())
    return ids


def wait_for(what: str, ok: Callable[[], bool], timeout: float, step: float = 0.02) -> float:
    """Seconds until ``ok()``; fails after ``timeout``."""
    began = time.monotonic()
    while not ok():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)
    return time.monotonic() - began


HOLD_US = 8_000_000
"""Events ahead of the clock produced in the first seconds are due ``HOLD_US`` after the first
batch: a processor started with the test reads them while they are still ahead and holds them
(in its checkpoint, across kills) until then."""


@dataclass
class Producer:
    """Produces batches of events near the wall clock, recording each acknowledged id.

    Most events are "just now" (with ties); a fifth is late by up to an hour; 2% are ahead of
    the clock (by 1-3 s, or until ``HOLD_US`` after the first batch), to be held. Whether a
    processor reads one before it is due depends on its lag (and on the machine's load).
    """

    store: FeatureStore
    rng: random.Random
    acked: list[int] = field(default_factory=list)
    latest_us: int = 0
    """The latest event time produced (held events are due after it)."""
    next_id: int = 0
    first_us: int = 0

    def batch(self, n: int = 100, *, ahead: float = 0.02, ahead_us: int = 1_000_000) -> None:
        """``ahead``: the share of events ahead of the clock, by at least ``ahead_us``."""
        now = time.time_ns() // 1000
        self.first_us = self.first_us or now
        rows = []
        for _ in range(n):
            r = self.rng.random()
            if r < ahead:  # ahead: held until due
                ts = max(
                    now + ahead_us + self.rng.randrange(2_000_000),
                    self.first_us + HOLD_US + self.rng.randrange(1_000_000),
                )
            elif r < ahead + 0.2:  # late by up to an hour
                ts = now - self.rng.randrange(3_600_000_000)
            else:  # just now (ties included)
                ts = now - self.rng.randrange(0, 2_000_000, 250_000)
            amount = None if self.rng.random() < 0.03 else round(self.rng.uniform(-10, 500), 2)
            self.latest_us = max(self.latest_us, ts)
            rows.append(
                {
                    "event_id": self.next_id,
                    "customer_id": self.rng.randrange(KEYS),
                    "event_timestamp": pd.Timestamp(ts, unit="us", tz="UTC"),
                    "amount": amount,
                }
            )
            self.next_id += 1
        acks = self.store.produce(SOURCE, rows)
        assert len(acks) == len(rows)
        self.acked.extend(r["event_id"] for r in rows)


def drain(root: Path, latest_us: int) -> None:
    """Process everything: drain, wait until every held event is due, drain again."""
    cli(root, "stream", "run", "--until-idle", "--max-batch", "2000")
    wait = (latest_us - time.time_ns() // 1000) / 1e6 + 0.05
    if wait > 0:
        time.sleep(wait)
    cli(root, "stream", "run", "--until-idle", "--max-batch", "2000")


def status(root: Path) -> dict[str, Any]:
    [row] = json.loads(cli(root, "stream", "status", "--json"))
    return row


@dataclass
class Report:
    duplicates: list[int]
    gaps: list[int]
    mismatches: list[str]
    checks: int
    status: dict[str, Any]


def check(store: FeatureStore, acked: list[int]) -> Report:
    """The final checks over the landed events, the online store and the status."""
    root = store.root
    ids = landed_ids(root)
    seen: set[int] = set()
    duplicates = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    gaps = sorted(set(acked) - seen)
    row = status(root)
    last_commit = row["last_commit_us"]
    now = time.time_ns() // 1000
    assert now > last_commit
    mismatches: list[str] = []
    checks = 0
    for at_us in (now, now + 7 * 60_000_000, now + 45 * 60_000_000):
        checks += _compare(store, at_us, mismatches)
    return Report(duplicates, gaps, mismatches, checks, row)


def _compare(store: FeatureStore, at_us: int, out: list[str]) -> int:
    at = datetime.fromtimestamp(at_us // 1_000_000, tz=UTC).replace(microsecond=at_us % 1_000_000)
    ids = list(range(KEYS))
    online = store.get_online_features(FEATURES, [{"customer_id": k} for k in ids], at=at).to_df()
    batch = store.get_historical_features(
        pd.DataFrame({"customer_id": ids, "event_timestamp": [at] * len(ids)}), FEATURES
    ).to_df()
    n = 0
    for agg in AGGREGATIONS:
        for k, a, b in zip(ids, online[agg.name], batch[agg.name], strict=True):
            n += 1
            if not _same(a, b):
                out.append(f"{agg.name} key {k} at {at_us}: online {a!r} batch {b!r}")
    return n
