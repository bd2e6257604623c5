"""The streaming step of the quickstart: card transactions as they happen, in a prediction.

The team moves the card transactions onto an event stream: ``transactions`` becomes a
``LocalStreamSource`` (the embedded log in ``.cairn/streams/``) whose batch source is seeded
with the transaction history, and a new view ``card_velocity`` (exact 10-minute windows) reads
it beside ``txn_stats``, the view the champion model was trained on. ``cairn stream run``
builds both views' tiles from the history, then keeps them current from the log while
``cairn serve`` answers. The example's card transactions, re-stamped to the last hour, are
produced to the log; then one customer pays by card, and the credit deployment's prediction
for that customer, a second later, reflects the payment (``txn_stats`` and ``card_velocity``
move; the time from ``produce`` returning to the feature being served is measured). Finally
the consistency check compares the online tiles of both views with the batch engine over the
history and the landed events: 0 mismatches. Every wait is bounded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
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
from cairn.app.serve_process import (
    free_port,
    start_command,
    start_server,
    stop_server,
    wait_ready,
)
from cairn.app.stream_status import StreamWatch, stream_status
from cairn.core.config import STATE_DIR
from cairn.core.errors import CairnError

SOURCE = "transactions"
VIEWS = ("txn_stats", "card_velocity")
HISTORY = "data/streams/transactions"
STREAM_SOURCE = """transactions = LocalStreamSource(
    name="transactions",
    partitions=2,
    batch_source=FileSource(
        path="data/streams/transactions",
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
        name="transactions_landed",
        file_format="parquet",
        description="The card transaction history, then every event `cairn stream run` landed.",
    ),
    schema=[Field(name="customer_id", dtype="int64")],
    description="Card transactions as they happen: the embedded event log in .cairn/streams/. "
    "`cairn stream produce transactions FILE` (or FeatureStore.produce) appends events; "
    "`cairn stream run` keeps the tiles of txn_stats and card_velocity current.",
)
"""
VELOCITY_VIEW = """

card_velocity = FeatureView(
    name="card_velocity",
    entities=[customer],
    source=transactions,
    aggregations=[
        Aggregation("amount", "count", "10m", hop="0s", name="txn_count_10m"),
        Aggregation("amount", "sum", "10m", hop="0s", name="txn_amount_10m"),
        Aggregation("amount", "count", "1h", name="txn_count_1h"),
        Aggregation("amount", "max", "1h", name="txn_max_1h"),
    ],
)
"""
REPLAY = 2_000
"""Example transactions replayed to the log (re-stamped over the last hour)."""
WAIT_S = 30.0
STREAM_LOG = "stream.log"
FEATURES = [
    "card_velocity:txn_count_10m",
    "card_velocity:txn_amount_10m",
    "txn_stats:amount_count_24h",
    "txn_stats:amount_sum_24h",
]
CHANGED = 'Aggregation("amount", "sum", "1h", name="txn_amount_1h"),'
"""The feature the team adds to ``card_velocity`` while it is served."""
PAYMENT = {"amount": 480.0, "merchant_category": "atm_cash", "cash_advance": 1, "late_night": 0}
"""The card payment made a second before the prediction (a cash advance)."""


@dataclass
class StreamingDemo:
    """What the streaming demo did."""

    replayed: int
    customer: int
    before: dict[str, Any]
    after: dict[str, Any]
    fresh_ms: float
    """From ``produce`` returning to the server answering with the new transaction."""
    score_before: float
    score_after: float
    status: dict[str, Any]
    consistency: list[ConsistencyReport]
    fresh_all_ms: list[float] = field(default_factory=list)
    backfill: BackfillDemo | None = None


@dataclass
class BackfillDemo:
    """``card_velocity`` changed while served: backfilled beside, then switched."""

    switched_s: float
    """From the apply to the processor's switch (``cairn stream status``: current)."""
    seconds: float
    """From the apply to the first read of the new feature through the server (which
    re-reads the applied definitions every 10 s)."""
    served: int
    """Reads of the live definition answered meanwhile (none failed)."""
    refused: str
    """What reading the new feature answered before the switch (HTTP 422)."""
    value: Any
    """The new feature of the customer after the switch."""


def move_to_stream(project: Path) -> None:
    """Seed the stream's batch source with the history and rewrite ``features.py`` so that
    ``transactions`` is the stream source and ``card_velocity`` reads it too."""
    history = project / HISTORY
    shutil.rmtree(history, ignore_errors=True)
    history.mkdir(parents=True)
    shutil.copyfile(
        project / "data" / "transactions.parquet",
        history / f"part-{0:020d}-history.parquet",  # sorts before every landed batch
    )
    path = project / "features.py"
    text = path.read_text()
    if "LocalStreamSource" not in text:
        text = re.sub(
            r"transactions = FileSource\(.*?\n\)\n", STREAM_SOURCE, text, count=1, flags=re.S
        )
        text = text.replace(
            "from cairn import Aggregation, Entity, FeatureView, Field, FileSource",
            "from cairn import Aggregation, Entity, FeatureView, Field, FileSource, "
            "LocalStreamSource",
        )
        path.write_text(text.rstrip("\n") + "\n" + VELOCITY_VIEW)


def run_streaming_demo(project_path: str | Path) -> StreamingDemo:
    """Move transactions onto the stream, run processor and server, produce, predict, check."""
    project = Path(project_path).resolve()
    move_to_stream(project)
    opened = Project.open(project)
    store = opened.features
    store.apply(opened.definitions())
    processor = start_command(
        project,
        ["stream", "run", "--repo", str(project), "--poll", "0.05", "--refresh", "0.5"],
        STREAM_LOG,
    )
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
            score_before = _score(client, customer)
            timings: list[float] = []
            after, first = before, before
            for n in range(5):  # the first payment is shown; all five time it
                paid = pd.Timestamp(datetime.now(UTC)) - timedelta(seconds=1)
                row = {"customer_id": customer, **PAYMENT, "event_timestamp": paid}
                seen = after["txn_count_10m"]
                store.produce(SOURCE, [row])
                began = time.perf_counter()
                after = _until(client, customer, seen + 1, processor)
                timings.append((time.perf_counter() - began) * 1000)
                if n == 0:
                    first = after
                    score_after = _score(client, customer)
            backfill = _change_velocity(project, store, client, customer, processor)
    finally:
        processor.terminate()
        try:
            processor.wait(15)
        except subprocess.TimeoutExpired:
            processor.kill()
        stop_server(server)
    status = stream_status(store)[0]
    reports = [check_consistency(store, view, sample=200) for view in VIEWS]
    return StreamingDemo(
        len(replayed), customer, before, first, timings[0], score_before, score_after,
        status, reports, timings, backfill,
    )  # fmt: skip


def _change_velocity(
    project: Path,
    store: Any,
    client: httpx.Client,
    customer: int,
    processor: subprocess.Popen[bytes],
) -> BackfillDemo:
    """Add a feature to ``card_velocity`` in ``features.py`` and apply it while the server and
    the processor run; read through the server until the new feature is served."""
    path = project / "features.py"
    text = path.read_text()
    anchor = 'Aggregation("amount", "max", "1h", name="txn_max_1h"),'
    if CHANGED not in text:
        path.write_text(text.replace(anchor, f"{anchor}\n        {CHANGED}", 1))
    store.apply(Project.open(project).definitions())
    began = time.perf_counter()
    served, refused, switched = 0, "", None
    wanted = {"features": ["card_velocity:txn_amount_1h"], "entities": [{"customer_id": customer}]}
    watch = StreamWatch(store, min_interval=0)
    try:
        while time.perf_counter() - began < WAIT_S:
            _alive(processor)
            _read(client, customer)  # the live definition answers throughout (raises otherwise)
            served += 1
            if switched is None and watch.status()[0]["version_state"] == "current":
                switched = time.perf_counter() - began
            r = client.post("/v1/features/online", json=wanted)
            if r.status_code == 200 and switched is not None:
                value = r.json()["features"]["txn_amount_1h"][0]
                return BackfillDemo(switched, time.perf_counter() - began, served, refused, value)
            if r.status_code != 200:
                refused = f"{r.status_code} {r.json()['error']['type']}"
            time.sleep(0.05)
    finally:
        watch.close()
    raise CairnError(f"The changed card_velocity was not served within {WAIT_S:.0f} s.")


def _score(client: httpx.Client, customer: int) -> float:
    r = client.post("/v1/predict/credit", json={"entities": {"customer_id": customer}})
    r.raise_for_status()
    return float(r.json()["score"])


def _replay(project: Path, store: Any) -> pd.DataFrame:
    """The last ``REPLAY`` example transactions, re-stamped to end a few seconds ago."""
    with duckdb.connect() as con:
        frame: pd.DataFrame = con.execute(
            "SELECT customer_id, event_timestamp, amount, merchant_category, cash_advance, "
            "late_night FROM read_parquet(?) "
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
    watch = StreamWatch(store, min_interval=0)
    try:
        while time.monotonic() < deadline:
            _alive(processor)
            rows = watch.status()
            if rows and rows[0]["lag_events"] == 0 and rows[0]["last_commit_us"]:
                return
            time.sleep(0.1)
    finally:
        watch.close()
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
