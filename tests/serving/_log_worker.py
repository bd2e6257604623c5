"""Processes for the prediction log's concurrency test, run as ``python -m``.

``write ROOT ACKS SECONDS``: a server-like writer. It logs prediction rows through the log writer
``cairn serve`` uses (a :class:`SegmentLog` over :data:`PREDICTION_SCHEMA`, rows appended with
``append_many`` as the predictor does) and, after each append returns (the point a server answers
its client), appends the prediction id to ``ACKS`` with one ``write(2)``. SIGTERM closes the log
as a server's shutdown does; SIGKILL is a crash.

``read ROOT OUT SECONDS``: a reader in a loop through the paths behind ``cairn predictions
query`` (:func:`query`) and ``cairn monitor run`` / ``cairn deploy watch``
(:meth:`PredictionLog.connect`). Each line of ``OUT`` is ``rows distinct`` of one read, or
``error ...`` when a read failed.

``compact ROOT SECONDS``: ``cairn predictions compact`` in a loop, every segment eligible (as
if every hour had closed) and retired inputs kept 5 s.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from cairn.serving.log_reader import PredictionLog, query
from cairn.serving.log_records import PREDICTION_SCHEMA
from cairn.serving.prediction_log import SegmentLog

COUNT_SQL = "SELECT count(*), count(DISTINCT prediction_id) FROM predictions"


def _row(prediction_id: str) -> dict[str, Any]:
    return {
        "prediction_id": prediction_id,
        "time": time.time_ns() // 1000,
        "deployment": "credit",
        "strategy": "single",
        "arm": "main",
        "model_name": "credit-default",
        "model_version": "1",
        "entity": '{"customer_id":1}',
        "features": '{"income":42.0}',
        "score": 0.25,
        "decision": "approve",
        "latency_ms": 1.0,
        "reason_codes": "[]",
        "explained": False,
        "positive": False,
    }


def _serve_next_request() -> None:
    """Hold the GIL for about a millisecond, as a server's event loop scoring a request does (so
    the log's flusher thread waits for it at the same points a server's does)."""
    until = time.perf_counter() + 0.001
    while time.perf_counter() < until:
        pass


def _shadow_worker() -> None:
    """Python work on another thread, as a server's shadow scorer and thread pool do: the log's
    flusher thread competes with it for the GIL between its system calls."""
    while True:
        _serve_next_request()
        time.sleep(0.0005)


def write(root: Path, acks: Path, seconds: float) -> None:
    stop = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=_shadow_worker, daemon=True).start()
    log = SegmentLog(PredictionLog(root).predictions_dir, PREDICTION_SCHEMA)
    log.start()
    ack = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    deadline = time.monotonic() + seconds
    prefix = uuid.uuid4().hex[:8]
    i = 0
    while not stop and time.monotonic() < deadline:
        i += 1
        pid = f"{prefix}-{i}"
        log.append_many([orjson.dumps(_row(pid)) + b"\n"])
        os.write(ack, pid.encode() + b"\n")
        _serve_next_request()
    log.close()
    os.close(ack)


def read(root: Path, out: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    log = PredictionLog(root)
    with open(out, "a") as f:
        turn = 0
        while time.monotonic() < deadline:
            turn += 1
            try:
                if turn % 2:
                    rows, distinct = query(root, COUNT_SQL).rows[0]
                else:
                    with log.connect() as con:
                        fetched = con.execute(COUNT_SQL).fetchone()
                        assert fetched is not None
                        rows, distinct = fetched
            except Exception as exc:  # the test fails on any, after counting what was lost
                f.write(f"error {type(exc).__name__}: {exc}\n".replace("\n", " ") + "\n")
            else:
                f.write(f"{rows} {distinct}\n")
            f.flush()


def compact_loop(root: Path, seconds: float) -> None:
    from cairn.serving.log_compaction import compact

    deadline = time.monotonic() + seconds
    directory = PredictionLog(root).predictions_dir
    while time.monotonic() < deadline:
        compact(directory, PREDICTION_SCHEMA, before=time.time() + 7200, grace_s=5.0)
        time.sleep(0.5)


if __name__ == "__main__":
    mode, root = sys.argv[1], Path(sys.argv[2])
    if mode == "write":
        write(root, Path(sys.argv[3]), float(sys.argv[4]))
    elif mode == "read":
        read(root, Path(sys.argv[3]), float(sys.argv[4]))
    else:
        compact_loop(root, float(sys.argv[3]))
