"""``cairn serve`` with rollouts from the metadata store, over HTTP under concurrent load:
blue-green switches and canary moves without a single failed request, and shadow scores
logged under the primaries' ids."""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cairn.serving.log_reader import query
from cairn.serving.routing import RolloutSpec, RolloutStore
from cairn.testing.servers import free_port, start_server, stop_server, wait_ready
from tests.rollouts._rollout_project import CHALLENGER, CHAMPION, rollout_project, rollout_store
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow
POLL = {"CAIRN_ROLLOUT_POLL_SECONDS": "0.2"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    return rollout_project(tmp_path_factory.mktemp("rollout"), mlflow_template)


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[tuple[str, RolloutStore]]:
    """``cairn serve`` on the project, polling its rollouts every 0.2 s."""
    port = free_port()
    proc: subprocess.Popen[bytes] = start_server(project, port, env=POLL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=90)
        yield url, rollout_store(project)
    finally:
        stop_server(proc)


class Load:
    """Client threads posting predictions until stopped (bounded: 60 s at most)."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self.url = url
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.seen: list[list[str]] = [[] for _ in range(threads)]
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, i: int) -> None:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.url, timeout=10) as c:
            n = 0
            while not self.stop.is_set() and time.monotonic() < deadline:
                n += 1
                body = {"entities": {"customer_id": n % 3 + 1}, "unit_id": f"u{i}-{n % 50}"}
                try:
                    r = c.post("/v1/predict/credit", json=body)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if r.status_code != 200:
                    self.failures.append(f"{r.status_code} {r.text}")
                    continue
                self.seen[i].append(r.json()["model"]["version"])

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def wait_for(self, version: str, timeout: float = 30) -> None:
        """Until every thread has seen ``version`` as its latest answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s and s[-1] == version for s in self.seen):
                return
            time.sleep(0.05)
        raise AssertionError(f"the server never served version {version} everywhere")


def test_blue_green_switches_under_load_fail_no_request(server: tuple[str, RolloutStore]) -> None:
    url, store = server
    spec = store.put(
        RolloutSpec.blue_green("credit", CHAMPION, CHALLENGER), actor="ops", reason="slots"
    )
    with Load(url) as load:
        load.wait_for("1")
        marks = [len(s) for s in load.seen]
        for live, version in [("green", "2"), ("blue", "1"), ("green", "2"), ("blue", "1")]:
            spec = store.put(
                spec.with_changes(live=live),
                actor="ops",
                reason="switch",
                expected_version=spec.version,
            )
            load.wait_for(version)
    assert load.failures == []
    for seen, mark in zip(load.seen, marks, strict=True):
        after = seen[mark:]
        flips = sum(a != b for a, b in itertools.pairwise(after))
        assert flips <= 4  # each switch flips a client once: never back and forth
    with httpx.Client(base_url=url) as c:
        rollout = c.get("/v1/deployments").json()["deployments"]["credit"]["rollout"]
    assert rollout["strategy"] == "blue-green" and rollout["live"] == "blue"
    assert [a["version"] for a in rollout["arms"]] == ["1", "2"]


def test_canary_moves_and_rolls_back_under_load(server: tuple[str, RolloutStore]) -> None:
    url, store = server
    spec = store.put(
        RolloutSpec.canary("credit", CHAMPION, CHALLENGER, seed="canary-test"),
        actor="ops",
        reason="canary",
    )
    with Load(url) as load:
        spec = store.put(spec.with_changes(stage=3), actor="controller", reason="gates passed")
        load.wait_for("2")  # 100 %: every unit on the canary
        spec = store.put(spec.with_changes(state="rolled_back"), actor="controller", reason="harm")
        load.wait_for("1")
    assert load.failures == []


def rollout_of(c: httpx.Client) -> dict[str, Any]:
    found: dict[str, Any] = c.get("/v1/deployments").json()["deployments"]["credit"]["rollout"]
    return found


def test_shadow_scores_are_logged_under_the_same_ids(
    server: tuple[str, RolloutStore], project: Path
) -> None:
    url, store = server
    spec = RolloutSpec.single("credit", CHAMPION).with_changes(shadows=(CHALLENGER,))
    store.put(spec, actor="ops", reason="shadow the challenger")
    ids: list[str] = []
    with httpx.Client(base_url=url, timeout=10) as c:
        deadline = time.monotonic() + 30
        while not rollout_of(c)["shadows"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rollout_of(c)["shadows"] == [{"model": CHALLENGER, "version": "2"}]
        before = rollout_of(c)["shadow_queue"]["scored"]
        for i in range(30):
            r = c.post("/v1/predict/credit", json={"entities": {"customer_id": i % 3 + 1}})
            assert r.status_code == 200
            ids.append(r.json()["prediction_id"])
        while rollout_of(c)["shadow_queue"]["scored"] < before + 30:
            assert time.monotonic() < deadline, "the shadow worker never caught up"
            time.sleep(0.05)
        assert rollout_of(c)["shadow_queue"]["dropped"] == 0
    listed = ", ".join(f"'{i}'" for i in ids)
    sql = (
        "SELECT prediction_id, count(*) FILTER (WHERE shadow), count(*) FILTER (WHERE NOT shadow),"
        " max(model_version) FILTER (WHERE shadow), max(arm) FILTER (WHERE shadow) "
        f"FROM predictions WHERE prediction_id IN ({listed}) GROUP BY prediction_id"
    )
    rows = query(project, sql).rows
    while {r[1:] for r in rows} != {(1, 1, "2", f"shadow:{CHALLENGER}")} or len(rows) < 30:
        assert time.monotonic() < deadline, f"the log has {rows}"
        time.sleep(0.2)  # the server turns its staging file into a segment every second
        rows = query(project, sql).rows


def test_a_rollout_whose_model_cannot_load_is_not_applied(
    server: tuple[str, RolloutStore],
) -> None:
    url, store = server
    baseline = store.put(RolloutSpec.single("credit", CHAMPION), actor="ops", reason="baseline")
    with httpx.Client(base_url=url, timeout=10) as c:
        deadline = time.monotonic() + 30
        # the baseline itself, not an earlier test's rollout the server still shows
        while rollout_of(c)["version"] != baseline.version:
            assert time.monotonic() < deadline, "the server never applied the baseline"
            time.sleep(0.05)
        broken = RolloutSpec.blue_green("credit", CHAMPION, "credit-default@nope", live="green")
        store.put(broken, actor="ops", reason="a slot nobody registered")
        while rollout_of(c)["pending"] is None:
            assert time.monotonic() < deadline, "the server never tried the new rollout"
            time.sleep(0.05)
        rollout = rollout_of(c)
        assert "credit-default@nope" in rollout["pending"]
        assert rollout["strategy"] == "single" and rollout["shadows"] == []
        r = c.post("/v1/predict/credit", json={"entities": {"customer_id": 1}})
        assert r.status_code == 200 and r.json()["model"]["version"] == "1"
