"""``cairn serve --workers 2`` reports the requests of both workers on every scrape: the
workers keep their counters in prometheus_client's multiprocess files and the worker answering
``/metrics`` sums them (before, a scrape saw only its own worker's share: 143 or 57 of 200)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cairn.cli.serve import metrics_dir
from cairn.testing.servers import free_port, stop_server, wait_ready
from tests.rollouts._rollout_project import rollout_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

HITS = 200


def _value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


@pytest.mark.slow
def test_two_workers_report_every_request_on_every_scrape(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path
) -> None:
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
        # a new connection per request, so the kernel spreads them over both workers
        for i in range(HITS):
            r = httpx.post(
                f"{url}/v1/predict/credit", json={"entities": {"customer_id": i % 50 + 1}}
            )
            assert r.status_code == 200, r.text
            assert httpx.get(f"{url}/healthz").status_code == 200
        # both workers counted requests: one counter file per worker process
        assert len({p.stem.rsplit("_", 1)[1] for p in shared.glob("counter_*.db")}) == 2
        for _ in range(6):  # whichever worker answers, it counts both workers' requests
            text = httpx.get(f"{url}/metrics").text
            predicted = _value(text, "cairn_http_requests_total", route="/v1/predict/{deployment}")
            assert predicted == HITS
            assert _value(text, "cairn_predictions_total", deployment="credit") == HITS
            assert _value(text, "cairn_http_requests_total", route="/healthz") == HITS
            count = _value(text, "cairn_http_request_duration_seconds_count", route="/healthz")
            assert count == HITS
    finally:
        stop_server(proc)


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
