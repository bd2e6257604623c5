"""``cairn serve --workers 2`` reports the requests of both workers on every scrape: the
workers keep their counters in prometheus_client's multiprocess files and the worker answering
``/metrics`` sums them (before, a scrape saw only its own worker's share: 143 or 57 of 200).
A worker killed with ``kill -9`` loses no count: its files stay, the supervisor starts another
worker, and no scrape fails meanwhile."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cairn.cli.serve import metrics_dir
from cairn.serving.metrics import ServingMetrics
from cairn.testing.servers import free_port, stop_server, wait_ready
from tests.rollouts._rollout_project import rollout_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

HITS = 200
AFTER_KILL = 150


def _value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


@contextmanager
def _two_workers(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``cairn serve --workers 2`` on the rollout project: yields its URL, the supervisor
    process and the multiprocess metrics directory (its files named after worker pids)."""
    served = rollout_project(tmp_path_factory.mktemp("workers-metrics"), mlflow_template)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shared = tmp_path_factory.mktemp("prometheus")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with open(served / ".cairn" / "workers.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from cairn.cli.main import main; main()", "serve", "--repo",
             str(served), "--port", str(port), "--workers", "2", "--no-access-log"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        wait_ready(url, proc, timeout=120)
        yield url, proc, shared
    finally:
        stop_server(proc)


def _counting_pids(shared: Path) -> set[int]:
    """The pids of the workers that counted something (one counter file each)."""
    return {int(p.stem.rsplit("_", 1)[1]) for p in shared.glob("counter_*.db")}


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(c) for c in text}
    return found


def _predict(url: str, i: int) -> int:
    """One prediction on a new connection (the kernel spreads them over the workers)."""
    r = httpx.post(f"{url}/v1/predict/credit", json={"entities": {"customer_id": i % 50 + 1}})
    return r.status_code


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kill -9, /proc")
def test_two_workers_report_every_request_on_every_scrape_even_after_a_kill_9(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path
) -> None:
    with _two_workers(tmp_path_factory, mlflow_template) as (url, proc, shared):
        for i in range(HITS):
            assert _predict(url, i) == 200
            assert httpx.get(f"{url}/healthz").status_code == 200
        # both workers counted requests: one counter file per worker process
        initial, workers = _children(proc.pid), _counting_pids(shared)
        assert len(workers) == 2 and workers <= initial
        # A request is counted by the middleware after its answer was sent: a worker the
        # kernel pauses in between counts the last one a moment after its client got it (a
        # prediction is counted before it is answered).
        deadline = time.monotonic() + 60
        while True:
            text = httpx.get(f"{url}/metrics").text
            counted = [
                _value(text, "cairn_http_requests_total", route="/v1/predict/{deployment}"),
                _value(text, "cairn_http_requests_total", route="/healthz"),
                _value(text, "cairn_http_request_duration_seconds_count", route="/healthz"),
            ]
            assert max(counted) <= HITS, counted
            if min(counted) == HITS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for _ in range(6):  # whichever worker answers, it counts both workers' requests
            text = httpx.get(f"{url}/metrics").text
            predicted = _value(text, "cairn_http_requests_total", route="/v1/predict/{deployment}")
            assert predicted == HITS
            assert _value(text, "cairn_predictions_total", deployment="credit") == HITS
            assert _value(text, "cairn_http_requests_total", route="/healthz") == HITS
            count = _value(text, "cairn_http_request_duration_seconds_count", route="/healthz")
            assert count == HITS
        # kill -9 one worker while predictions and scrapes go on
        acked, lost = HITS, 0  # lost: predictions whose connection the kill cut
        done = threading.Event()
        scrapes: list[tuple[int, int, float]] = []  # (acked before, status, predictions seen)
        cut: list[str] = []

        def scrape() -> None:
            while not done.is_set() and len(scrapes) < 2000:
                seen = acked
                try:
                    r = httpx.get(f"{url}/metrics")
                except httpx.TransportError as exc:  # only the scrape the kill cut
                    cut.append(repr(exc))
                    continue
                total = _value(r.text, "cairn_predictions_total", deployment="credit")
                scrapes.append((seen, r.status_code, total))

        scraper = threading.Thread(target=scrape)
        scraper.start()
        try:
            victim = min(workers)
            os.kill(victim, signal.SIGKILL)  # a child of this test's server, checked above
            for i in range(AFTER_KILL):
                try:
                    status = _predict(url, HITS + i)
                except httpx.TransportError:
                    lost += 1
                    continue
                assert status == 200
                acked += 1
            deadline = time.monotonic() + 60
            while not _children(proc.pid) - initial and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            done.set()
            scraper.join(60)
        restarted = _children(proc.pid) - initial
        final = [_value(httpx.get(f"{url}/metrics").text, "cairn_predictions_total",
                        deployment="credit") for _ in range(6)]  # fmt: skip
    print(
        f"kill -9 of worker {victim}: {acked} predictions acknowledged, {lost} cut; "
        f"{len(scrapes)} scrapes, {len(cut)} cut; supervisor started {sorted(restarted)}"
    )
    assert lost <= 1 and len(cut) <= 1  # only what was in flight on the killed worker
    assert len(restarted) == 1 and victim not in restarted  # uvicorn replaced the dead worker
    assert scrapes and [s for s in scrapes if s[1] != 200] == []
    assert all(total >= seen for seen, _, total in scrapes)
    # every acknowledged prediction is counted, the dead worker's with the others' (a cut
    # request may have been counted before its answer was lost)
    assert all(acked <= total <= acked + lost for total in final)


def test_a_scrape_skips_the_file_a_starting_worker_has_not_sized_yet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    worker = (  # a worker (multiprocess mode is chosen at import) counts a request and exits
        "from cairn.serving.metrics import ServingMetrics; "
        "ServingMetrics().observe('/healthz', 'GET', 200, 0.001)"
    )
    subprocess.run([sys.executable, "-c", worker], check=True, env=os.environ.copy())
    assert len(list(tmp_path.glob("counter_*.db"))) == 1
    (tmp_path / "counter_4194303.db").touch()  # another one's file: created, not yet sized
    (tmp_path / "histogram_4194303.db").touch()
    text = ServingMetrics().render().decode()
    assert 'cairn_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text


def test_the_workers_metrics_directory_lives_as_long_as_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with metrics_dir() as made:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == made and Path(made).is_dir()
        assert list(Path(made).iterdir()) == []
    assert not Path(made).exists() and "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    # a directory the environment names is the operator's: used and kept
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with metrics_dir() as given:
        assert given == str(tmp_path)
    assert tmp_path.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
