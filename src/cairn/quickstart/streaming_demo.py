"""The streaming step of the quickstart: card transactions as they happen, served in a second.

The team adds a windowed view over the embedded event log (``card_velocity`` over
``card_txns``, appended to ``features.py`` and applied), starts ``cairn stream run`` and
``cairn serve``, and produces the example's card transactions, re-stamped to the last hour, to
the log. Then one customer pays by card: the server's online features show that transaction
about a second later (the time from ``produce`` returning to the feature being served is
measured). Finally the processor stops and the consistency check compares the online tiles
with the batch engine over the landed events: 0 mismatches. Every wait is bounded.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd

from cairn.app.consistency import ConsistencyReport, check_consistency
from cairn.app.project import Project
from cairn.app.serve_process import free_port, start_server, stop_server, wait_ready
from cairn.app.stream_status import stream_status
from cairn.core.config import STATE_DIR, process_env
from cairn.core.errors import CairnError

VIEW = "card_velocity"
SOURCE = "card_txns"
STREAM_DEFINITIONS = """

# Streaming: card transactions as they happen. `cairn stream produce card_txns FILE` (or
# FeatureStore.produce) appends events to the embedded log in .cairn/streams/card_txns.db;
# `cairn stream run` keeps the tiles of card_velocity current and lands every processed event
# in data/streams/card_txns (created time = commit time), where training sets read them.
from cairn import LocalStreamSource  # noqa: E402

card_txns = LocalStreamSource(
    name="card_txns",
    partitions=2,
    schema=[
        Field(name="customer_id", dtype="int64"),
        Field(name="amount", dtype="float64"),
        Field(name="category", dtype="string"),
    ],
    description="Card transactions as they happen (the embedded event log).",
)

card_velocity = FeatureView(
    name="card_velocity",
    entities=[customer],
    source=card_txns,
    aggregations=[
        Aggregation("amount", "count", "10m", hop="0s", name="txn_count_10m"),
        Aggregation("amount", "sum", "10m", hop="0s", name="txn_amount_10m"),
        Aggregation("amount", "count", "1h", name="txn_count_1h"),
        Aggregation("amount", "max", "1h", name="txn_max_1h"),
        Aggregation("amount", "mean", "24h", name="txn_mean_24h"),
    ],
)
"""
REPLAY = 2_000
"""Example transactions replayed to the log (re-stamped over the last hour)."""
WAIT_S = 30.0
FEATURES = [
    f"{VIEW}:{f}" for f in ("txn_count_10m", "txn_amount_10m", "txn_count_1h", "txn_max_1h")
]


@dataclass
class StreamingDemo:
    """What the streaming demo did."""

    replayed: int
    customer: int
    before: dict[str, Any]
    after: dict[str, Any]
    fresh_ms: float
    """From ``produce`` returning to the server answering with the new transaction."""
    status: dict[str, Any]
    consistency: ConsistencyReport
    fresh_all_ms: list[float] = field(default_factory=list)


def add_stream_definitions(project: Path) -> bool:
    """Append the streaming definitions to ``features.py`` (once); True when added."""
    path = project / "features.py"
    text = path.read_text()
    if "card_velocity" in text:
        return False
    path.write_text(text + STREAM_DEFINITIONS)
    return True


def run_streaming_demo(project_path: str | Path) -> StreamingDemo:
    """Apply the streaming view, run processor and server, produce, read, check parity."""
    project = Path(project_path).resolve()
    add_stream_definitions(project)
    opened = Project.open(project)
    store = opened.features
    store.apply(opened.definitions())
    log = project / STATE_DIR / "stream.log"
    with log.open("ab") as out:
        processor = subprocess.Popen(
            [sys.executable, "-c", "from cairn.cli.main import main; main()", "stream", "run",
             "--repo", str(project), "--poll", "0.05"],
            stdout=out, stderr=subprocess.STDOUT, env=process_env(),
        )  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(project, port)
    try:
        wait_ready(url, server)
        replayed = _replay(project, store)
        _drained(store, processor)
        customer = int(replayed["customer_id"].iloc[-1])
        with httpx.Client(base_url=url, timeout=10.0) as client:
            before = _read(client, customer)
            timings = []
            after = before
            for _ in range(5):  # the first shows the transaction; the others time it again
                now = pd.Timestamp(datetime.now(UTC))
                row = {"customer_id": customer, "event_timestamp": now - timedelta(seconds=1),
                       "amount": 42.0, "category": "grocery"}  # fmt: skip
                seen = after["txn_count_10m"]
                store.produce(SOURCE, [row])
                began = time.perf_counter()
                after = _until(client, customer, seen + 1, processor)
                timings.append((time.perf_counter() - began) * 1000)
                if len(timings) == 1:
                    first = after
    finally:
        processor.terminate()
        try:
            processor.wait(15)
        except subprocess.TimeoutExpired:
            processor.kill()
        stop_server(server)
    status = stream_status(store)[0]
    report = check_consistency(store, VIEW, sample=200)
    return StreamingDemo(
        len(replayed), customer, before, first, timings[0], status, report, timings
    )


def _replay(project: Path, store: Any) -> pd.DataFrame:
    """The last ``REPLAY`` example transactions, re-stamped to end a few seconds ago."""
    with duckdb.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT customer_id, event_timestamp, amount, merchant_category AS category "
            "FROM read_parquet(?) "
            "ORDER BY event_timestamp DESC LIMIT ?",
            [str(project / "data" / "transactions.parquet"), REPLAY],
        ).df()
    frame = frame.iloc[::-1].reset_index(drop=True)
    first, last = frame["event_timestamp"].iloc[0], frame["event_timestamp"].iloc[-1]
    span = (last - first) or pd.Timedelta(seconds=1)
    end = pd.Timestamp(datetime.now(UTC)) - pd.Timedelta(seconds=5)
    frame["event_timestamp"] = end - (last - frame["event_timestamp"]) / span * pd.Timedelta(
        hours=1
    )
    for i in range(0, len(frame), 500):
        store.produce(SOURCE, frame.iloc[i : i + 500])
    return frame


def _drained(store: Any, processor: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        _alive(processor)
        rows = stream_status(store)
        if rows and rows[0]["lag_events"] == 0 and rows[0]["last_commit_us"]:
            return
        time.sleep(0.1)
    raise CairnError(f"cairn stream run did not catch up within {WAIT_S:.0f} s.")


def _read(client: httpx.Client, customer: int) -> dict[str, Any]:
    r = client.post(
        "/v1/features/online",
        json={"features": FEATURES, "entities": [{"customer_id": customer}]},
    )
    r.raise_for_status()
    columns = r.json()["features"]
    return {f.partition(":")[2]: columns[f.partition(":")[2]][0] for f in FEATURES}


def _until(
    client: httpx.Client, customer: int, count: int, processor: subprocess.Popen[bytes]
) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        got = _read(client, customer)
        if got["txn_count_10m"] >= count:
            return got
        _alive(processor)
        time.sleep(0.002)
    raise CairnError(f"The new transaction was not served within {WAIT_S:.0f} s.")


def _alive(processor: subprocess.Popen[bytes]) -> None:
    if processor.poll() is not None:
        raise CairnError(
            f"cairn stream run exited with code {processor.returncode}; see {STATE_DIR}/stream.log."
        )
