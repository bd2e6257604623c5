"""The prediction log under many processes: server-like writers (one killed with SIGKILL mid-way
and replaced), readers in loops through the code behind ``cairn predictions query``, ``cairn
monitor run`` and ``cairn deploy watch``, and compaction running meanwhile; then three real
``cairn serve`` processes over HTTP with readers and a kill -9. Every acknowledged prediction is
logged exactly once, and no reader ever sees a gap or a duplicate."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from cairn.serving.log_reader import PredictionLog, query
from cairn.serving.log_records import PREDICTION_SCHEMA
from cairn.serving.prediction_log import SegmentLog
from cairn.testing.servers import free_port, start_server, stop_server, wait_ready
from tests.serving._served import register_champion
from tests.serving.conftest import write_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.serving._log_worker", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()[-2000:]


def run_traffic(root: Path, seconds: float, *, compactor: bool) -> tuple[list[str], Counter[str]]:
    """Run 3 writers and 2 readers (and a compactor) for ``seconds``; kill -9 one writer half-way
    and start a replacement. Returns the acknowledged ids and how often each id was logged, after
    a writer's start-up recovered what the killed one staged."""
    acks = [root / f"acks-{i}.txt" for i in range(4)]
    writers = [_spawn("write", str(root), str(acks[i]), str(seconds)) for i in range(3)]
    readers = [
        _spawn("read", str(root), str(root / f"reads-{i}.txt"), str(seconds)) for i in (0, 1)
    ]
    others = [_spawn("compact", str(root), str(seconds))] if compactor else []
    time.sleep(seconds / 2)
    # on a loaded machine a writer may still be importing half-way: kill it once it has
    # acknowledged something, so the kill always lands mid-traffic
    deadline = time.monotonic() + 120
    while not (acks[0].exists() and acks[0].stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.1)
    writers[0].send_signal(signal.SIGKILL)
    writers[0].wait(10)
    writers.append(_spawn("write", str(root), str(acks[3]), str(seconds / 2)))
    for proc in [*writers[1:], *readers, *others]:
        _finish(proc, timeout=seconds + 120)
    SegmentLog(PredictionLog(root).predictions_dir, PREDICTION_SCHEMA).close()  # a restart
    acknowledged = [line for path in acks for line in path.read_text().split()]
    rows = query(root, "SELECT prediction_id, count(*) FROM predictions GROUP BY 1").rows
    return acknowledged, Counter({pid: n for pid, n in rows})


def _reads(root: Path) -> tuple[list[list[tuple[int, int]]], list[str]]:
    series, errors = [], []
    for path in sorted(root.glob("reads-*.txt")):
        lines = path.read_text().splitlines()
        errors += [line for line in lines if line.startswith("error")]
        reads = [line.split() for line in lines if not line.startswith("error")]
        series.append([(int(a), int(b)) for a, b in reads])
    return series, errors


def _check(root: Path, acknowledged: list[str], logged: Counter[str]) -> None:
    lost = [pid for pid in acknowledged if logged[pid] == 0]
    doubled = [pid for pid, n in logged.items() if n > 1]
    series, errors = _reads(root)
    print(
        f"acknowledged {len(acknowledged)}, lost {len(lost)}, logged twice {len(doubled)}, "
        f"reads {sum(map(len, series))}, failed reads {len(errors)}"
    )
    assert len(acknowledged) > 1_000
    assert (len(lost), len(doubled)) == (0, 0), f"{len(lost)} of {len(acknowledged)} lost"
    assert not errors, errors[:3]
    for reads in series:
        assert len(reads) > 5
        assert all(rows == distinct for rows, distinct in reads), "a read saw a duplicate"
        counts = [rows for rows, _ in reads]
        assert counts == sorted(counts), "a read saw fewer rows than an earlier one (a gap)"


def test_writers_readers_and_a_kill_9_lose_nothing(tmp_path: Path) -> None:
    acknowledged, logged = run_traffic(tmp_path, 60, compactor=False)
    _check(tmp_path, acknowledged, logged)


def test_compaction_under_writers_and_readers_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    acknowledged, logged = run_traffic(tmp_path, 40, compactor=True)
    _check(tmp_path, acknowledged, logged)
    merged = list((tmp_path / ".cairn" / "predictions").glob("compacted-*.parquet"))
    assert merged


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    path = tmp_path_factory.mktemp("served")
    write_project(path)
    register_champion(path, mlflow_template, seed=20261206)
    return path


def _serve(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = start_server(path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=90)
    except Exception:
        stop_server(proc)
        raise
    return proc, url


def test_three_servers_over_http_with_readers_and_a_kill_9_lose_nothing(served: Path) -> None:
    seconds = 40.0
    servers = [_serve(served) for _ in range(3)]
    acknowledged: list[str] = []
    stop = threading.Event()

    def traffic(url: str) -> None:
        with httpx.Client(base_url=url, timeout=10) as c:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = c.post("/v1/predict/credit", json={"entities": {"customer_id": i % 3 + 1}})
                except httpx.HTTPError:
                    return  # the server died: this request was never acknowledged
                if r.status_code == 200:
                    acknowledged.append(r.json()["prediction_id"])

    threads = [threading.Thread(target=traffic, args=(url,)) for _, url in servers for _ in (0, 1)]
    for t in threads:
        t.start()
    readers = [
        _spawn("read", str(served), str(served / f"reads-{i}.txt"), str(seconds)) for i in (0, 1)
    ]
    try:
        time.sleep(seconds / 2)
        servers[0][0].send_signal(signal.SIGKILL)
        servers[0][0].wait(10)
        time.sleep(seconds / 2)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
        for proc, _ in servers[1:]:
            stop_server(proc)
    for reader in readers:
        _finish(reader, timeout=120)
    proc, _ = _serve(served)  # start-up recovers what the killed server staged
    stop_server(proc)
    rows = query(served, "SELECT prediction_id, count(*) FROM predictions GROUP BY 1").rows
    _check(served, acknowledged, Counter({pid: n for pid, n in rows}))
