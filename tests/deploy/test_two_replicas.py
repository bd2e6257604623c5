"""The production layout under load: two ``cairn serve`` replicas started with the command of
``deploy/compose.yaml`` (two workers each, JSON logs) behind nginx configured from
``deploy/nginx.conf``, on one project folder (one shared prediction log directory) and one
PostgreSQL metadata database (one rollout store). MLflow stays the project's SQLite file:
building its schema on a new PostgreSQL database would double the test's set-up.

While clients post predictions through nginx (keep-alive) and a probe per replica posts to it
directly (a new connection per request, reaching both of its workers), an operator, through
nginx's admin API, creates a blue-green rollout and switches it three times, then runs two
canaries (start, advance to 100 %, roll back; start again, promote). Asserted: no request
fails; after each change every replica ends up answering only with the new version; a replica
explains predictions the other one logged; every acknowledged prediction is in the log exactly
once (read with Cairn's reader once the replicas have stopped), and every shadow score belongs
to one of them, once. Measured and printed, not asserted (the machine's load decides it): the
time from each change's acknowledgement until each replica answers only with the new version,
next to the poll interval ``serving.rollout_poll_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cairn.app.serve_process import start_command
from cairn.serving.log_compaction import live_segments
from cairn.serving.log_reader import PredictionLog
from cairn.testing.servers import free_port, stop_server, wait_ready
from tests._services import postgres_database
from tests.deploy import _nginx
from tests.deploy._traffic import Traffic
from tests.rollouts._rollout import BO, TICKET, open_registry
from tests.rollouts._rollout_project import CHALLENGER, CHAMPION, rollout_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.postgres
POLL_S = 1.0
"""``serving.rollout_poll_seconds`` of the replicas (the default)."""
QUIET_S = 2 * POLL_S
"""How long a replica must answer only the new version before the change counts as applied."""
TOKEN = "replica-test-admin"
REPLICAS = ("r1", "r2")
BLUE_GREEN = {"strategy": "blue-green", "blue": CHAMPION, "green": CHALLENGER, "live": "green",
              "shadows": [CHAMPION]}  # fmt: skip
CANARY = {"strategy": "canary", "control": CHAMPION, "candidate": CHALLENGER,
          "stages": [25, 100], "replace": True}  # fmt: skip
CHANGES: list[tuple[str, str, dict[str, Any], str, bool]] = [
    # what, admin path, body, the version it brings, whether every answer then names it
    ("blue-green created, green live (v2 loaded and warmed first)", "", BLUE_GREEN, "2", True),
    ("blue-green: switch to blue (v1)", "/switch", {"to": "blue"}, "1", True),
    ("blue-green: switch to green (v2)", "/switch", {"to": "green"}, "2", True),
    ("blue-green: switch to blue (v1)", "/switch", {"to": "blue"}, "1", True),
    ("canary of v2 starts at 25 % (first v2)", "", CANARY, "2", False),
    ("canary advances to 100 % (v2)", "", {"stage": 1}, "2", True),
    ("canary rolled back (v1)", "/rollback", {}, "1", True),
    ("canary of v2 starts again (first v2)", "", CANARY, "2", False),
    ("canary promoted: the champion alias moves to v2", "/promote", {}, "2", True),
]


def serve_args(project: Path, port: int) -> list[str]:
    """The ``serve`` command of ``deploy/compose.yaml`` (workers, log format and all) for
    ``project`` on ``127.0.0.1:port``."""
    compose = yaml.safe_load((_nginx.RECIPE.parent / "compose.yaml").read_text())
    command = list(compose["services"]["serve"]["command"])
    assert command[:2] == ["cairn", "serve"], command
    for option, value in (("--repo", project), ("--host", "127.0.0.1"), ("--port", port)):
        assert option in command, f"compose.yaml's serve command has no {option}: {command}"
        command[command.index(option) + 1] = str(value)
    return command[1:]


@contextmanager
def replicas(project: Path) -> Iterator[dict[str, str]]:
    """Both replicas, ready; yields name -> URL and stops them (SIGTERM: logs flushed)."""
    env = {"CAIRN_ADMIN_TOKEN": TOKEN, "CAIRN_SERVING__ROLLOUT_POLL_SECONDS": str(POLL_S)}
    procs, urls = [], {}
    try:
        for name in REPLICAS:
            port = free_port()
            args = serve_args(project, port)
            procs.append(start_command(project, args, f"serve-{name}.log", env=env))
            urls[name] = f"http://127.0.0.1:{port}"
        for proc, url in zip(procs, urls.values(), strict=True):
            wait_ready(url, proc, timeout=300)
        yield urls
    finally:
        for proc in procs:
            stop_server(proc)


def admin(url: str, path: str, body: dict[str, Any]) -> float:
    """POST an admin action through the balancer; returns when it was acknowledged."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{url}/v1/deployments/credit/rollout{path}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return time.monotonic()


def applied(traffic: Traffic, since: float, version: str, *, whole: bool) -> dict[str, float]:
    """Per replica, seconds from ``since`` until it answers ``version`` (``whole``: only that
    version, for :data:`QUIET_S`; else its first answer naming it). Bounded: 120 s (a poll and
    the quiet time take seconds; a loaded machine loading a model version can take much more)."""
    deadline = time.monotonic() + 120
    while True:
        found = {
            name: traffic.settled(name, since, version, QUIET_S)
            if whole
            else traffic.first(name, since, version)
            for name in REPLICAS
        }
        if all(v is not None for v in found.values()):
            return {k: v for k, v in found.items() if v is not None}
        assert time.monotonic() < deadline, f"a replica never served version {version}: {found}"
        time.sleep(0.05)


def test_two_replicas_behind_nginx_switch_and_canary_under_load(
    tmp_path: Path, mlflow_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        database = stack.enter_context(postgres_database("replicas"))
        monkeypatch.setenv("CAIRN_METADATA__URL", database)  # this process and the servers
        project = rollout_project(tmp_path / "project", mlflow_template)
        # four eyes: the green slot goes live only approved by someone other than its author
        registry = open_registry(project)
        registry.mlflow.set_version_tag("credit-default", "2", "cairn.author", "ana")
        registry.approve("credit-default", "2", principal=BO, ticket=TICKET, decision="approve")
        built = time.monotonic()
        urls = stack.enter_context(replicas(project))
        ready = time.monotonic()
        ports = [int(u.rsplit(":", 1)[1]) for u in urls.values()]
        lb = stack.enter_context(_nginx.running(ports, free_port(), tmp_path / "nginx"))
        traffic = Traffic(lb, urls).start()
        stack.callback(traffic.stop)

        steps: list[tuple[str, dict[str, float]]] = []
        for what, path, body, version, whole in CHANGES:
            t0 = admin(lb, path, {**body, "reason": what})
            steps.append((what, applied(traffic, t0, version, whole=whole)))
        traffic.stop()
        loaded = time.monotonic() - traffic.hits[0].at
        # a replica explains a prediction the other one logged, whether it is in a Parquet
        # segment (the oldest) or still in the other's staging file (the newest); by v2, the
        # model both have loaded now (v1 went with the promotion: explaining it is a 409)
        for asked, logged_by in (("r1", "r2"), ("r2", "r1")):
            hits = [h for h in traffic.of(logged_by, since=0) if h.version == "2"]
            for hit in (*hits[:2], *hits[-2:]):
                r = httpx.get(f"{urls[asked]}/v1/explanations/{hit.prediction_id}", timeout=60)
                assert r.status_code == 200, r.text
                assert r.json()["model"]["version"] == hit.version
    # the replicas have stopped: every worker flushed its staging file
    assert traffic.failures == []
    acked = [h.prediction_id for h in traffic.hits]
    assert len(set(acked)) == len(acked)
    rows = (
        PredictionLog(project)
        .query(
            "SELECT prediction_id, count(*) FILTER (WHERE NOT coalesce(shadow, false)), "
            "count(*) FILTER (WHERE shadow) FROM predictions GROUP BY prediction_id"
        )
        .rows
    )
    primary = {r[0]: r[1] for r in rows if r[1]}
    shadows = {r[0]: r[2] for r in rows if r[2]}
    assert primary.keys() == set(acked), (len(primary), len(acked))
    assert set(primary.values()) == {1}  # no prediction logged twice
    assert shadows and shadows.keys() <= set(acked) and set(shadows.values()) == {1}
    writers = {p.name.split("-", 1)[0] for p in live_segments(project / ".cairn" / "predictions")}
    assert len(writers) >= 2  # both replicas wrote into the one directory

    lines = [
        f"{len(acked)} predictions in {loaded:.1f} s ({len(acked) / loaded:.0f}/s), "
        f"0 failed; {len(shadows)} shadow scores; {len(writers)} writer processes; "
        f"project {built - started:.1f} s, replicas ready {ready - built:.1f} s, "
        f"total {time.monotonic() - started:.1f} s",
        *(
            f"{what}: "
            + ", ".join(f"{r} {s:.2f} s" for r, s in took.items())
            + f" (poll {POLL_S:.1f} s)"
            for what, took in steps
        ),
    ]
    print("\n" + "\n".join(lines))
