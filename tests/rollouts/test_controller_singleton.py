"""The canary controller is a singleton per project: ``cairn deploy watch`` holds the project's
canary-controller lock while it acts, a second watcher stands by (judging nothing) and takes
over within seconds of the first one's ``kill -9`` (SQLite file lock and PostgreSQL advisory
lock); ``--once`` leaves the evaluation to a running controller after a bounded wait."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.cli.main import app
from cairn.core.gate_policy import GatePolicy
from cairn.rollouts.controller import DEFERRED, LOCK_NAME, CanaryController
from cairn.rollouts.spec import RolloutSpec
from tests._services import postgres_database
from tests._watchers import cut_the_leader, kill_the_leader, watchers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kill -9, flock")

JUDGED = "credit @ 10%: wait [min_samples]"
"""What a controller prints when it judges the test's canary (no traffic yet)."""


def make_project(root: Path, metadata_url: str | None = None) -> Path:
    """A project whose ``credit`` deployment runs a canary at 10 % (nothing served yet)."""
    root.mkdir(parents=True)
    text = "project: singleton\n"
    if metadata_url is not None:
        text += f"metadata:\n  url: {metadata_url}\n"
    (root / "cairn.yaml").write_text(text, encoding="utf-8")
    spec = RolloutSpec.canary(
        "credit", "credit-default@champion", "credit-default@challenger", stages=(10, 100),
        gate=GatePolicy(min_samples=50, interval_s=1),
    )  # fmt: skip
    with Project.open(root) as project:
        project.rollout_store.put(spec, actor="test", reason="a canary to judge")
    return root


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """The project on an SQLite file (file lock) or a fresh PostgreSQL database (advisory
    lock)."""
    with ExitStack() as stack:
        url = None
        if request.param == "postgres":
            url = stack.enter_context(postgres_database("singleton"))
        yield make_project(tmp_path / "credit", url)


ACTIVE = "Canary controller active"


@pytest.mark.slow
def test_one_watcher_acts_and_a_standby_takes_over_after_kill_9(
    project: Path, tmp_path: Path
) -> None:
    with watchers(("deploy", "watch"), project, tmp_path) as w:
        active, acted = kill_the_leader(w, ACTIVE, JUDGED)
    # the lock dies with its process; the standby polls every 0.2 s: measured, not asserted (a
    # loaded machine decides it; the helper's deadline bounds it)
    print(f"canary controller takeover after kill -9: active {active:.3f} s, acted {acted:.3f} s")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_leader_whose_lock_connection_ends_stops_acting_and_stands_by(tmp_path: Path) -> None:
    with postgres_database("singleton") as url:
        root = make_project(tmp_path / "credit", url)
        lock = LOCK_NAME.format(project="singleton")
        with watchers(("deploy", "watch"), root, tmp_path) as w:
            took = cut_the_leader(w, url, lock, ACTIVE, JUDGED)
    print(f"canary controller takeover after its leader's connection ended: {took:.3f} s")


def test_once_leaves_the_evaluation_to_the_active_controller(tmp_path: Path) -> None:
    root = make_project(tmp_path / "credit")
    with Project.open(root) as project:
        leader = CanaryController(project.rollouts, project.predictions)
        stop, taken, standby = threading.Event(), threading.Event(), threading.Event()
        runner = threading.Thread(
            target=leader.run, args=(stop,), kwargs={"interval": 30.0, "on_active": taken.set}
        )
        runner.start()
        try:
            assert taken.wait(30)
            other = CanaryController(project.rollouts, project.predictions)
            began = time.monotonic()
            (step,) = other.run_once(wait=0.4)
            assert time.monotonic() - began >= 0.4  # it waited the bounded time, no longer
            assert step.note == DEFERRED and step.update is None
            assert step.line() == (
                "another canary controller is active (waited 0.4 s for its lock): it judges "
                "the canaries"
            )
            result = CliRunner().invoke(
                app, ["deploy", "watch", "--once", "--wait", "0.2", "--json", "--repo", str(root)]
            )
            assert result.exit_code == 0, result.output
            (shown,) = json.loads(result.stdout)
            assert shown["note"] == DEFERRED and shown["decision"]["numbers"] == {"waited_s": 0.2}
            # a second `run` stands by (says so once) and gives up when stopped: stopped a
            # second after it said so (stopped before, it would rightly say nothing)
            quit_, acted = threading.Event(), threading.Event()

            def stood_by() -> None:
                standby.set()
                threading.Timer(1.0, quit_.set).start()

            bound = threading.Timer(60.0, quit_.set)  # should it never say so
            bound.start()
            try:
                assert other.run(quit_, on_standby=stood_by, on_active=acted.set) is False
            finally:
                bound.cancel()
            assert standby.is_set() and not acted.is_set()
        finally:
            stop.set()
            runner.join(30)
        (step,) = CanaryController(project.rollouts, project.predictions).run_once()
        assert step.line().startswith(JUDGED)  # the lock is free again: judged here


def test_watch_rejects_a_bad_interval_or_wait(tmp_path: Path) -> None:
    root = make_project(tmp_path / "credit")
    for args, said in (
        (["--interval", "0"], "--interval must be a positive number of seconds; got 0."),
        (["--once", "--wait", "-1"], "--wait must be 0 or more seconds; got -1."),
    ):
        result = CliRunner().invoke(app, ["deploy", "watch", *args, "--repo", str(root)])
        assert result.exit_code == 2 and said in result.output
