"""`cairn retrain run` and `cairn retrain watch` on the example project: a manual run is
idempotent (one run per key, however often it is asked), a refusal exits 1, bad input exits 2,
one controller acts while a second stands by, and the second takes over after a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from tests._services import postgres_url_or_skip
from tests.retraining._project import POLICY, Base, controller, write_policy

pytestmark = pytest.mark.slow


def _run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["retrain", *args, "--repo", str(root)])
    return result.exit_code, result.output


def test_a_manual_run_is_idempotent_by_its_key(root: Path, base: Base) -> None:
    write_policy(root, triggers={})  # only people (and schedulers) start runs here
    code, out = _run(root, "run", "--policy", POLICY, "--key", "airflow-2026-12-07", "--json")
    assert code == 0, out
    first = json.loads(out)
    assert first["entry"]["trigger"] == "manual" and first["entry"]["state"] == "shadow"
    assert [s["event"] for s in first["steps"]][:3] == ["decided", "training", "trained"]

    code, out = _run(root, "run", "--policy", POLICY, "--key", "airflow-2026-12-07", "--json")
    again = json.loads(out)
    assert code == 0 and again["entry"]["id"] == first["entry"]["id"]
    assert "decided" not in [s["event"] for s in again["steps"]]  # nothing new was decided
    entries = controller(root, base.team).ledger.entries(POLICY)
    assert len(entries) == 1 and entries[0].training_run_id == first["entry"]["training_run_id"]


def test_a_refused_run_exits_1_and_bad_input_exits_2(root: Path) -> None:
    write_policy(root, triggers={}, gates={"metric_floors": {"auc": 0.99}})
    code, out = _run(root, "run", "--policy", POLICY, "--key", "k1")
    assert code == 1 and "refused" in out and "auc" in out
    code, out = _run(root, "run", "--policy", "nope")
    assert code == 2 and "--policy 'nope' is not in retraining.yaml; policies: p." in out
    (root / "retraining.yaml").write_text("policies:\n  p: {deployment: credit, cooldown: soon}\n")
    code, out = _run(root, "run", "--policy", POLICY)
    assert code == 2 and "cooldown must be a duration" in out


def test_watch_once_prints_what_it_did(root: Path) -> None:
    write_policy(root)
    code, out = _run(root, "watch", "--once", "--json")
    steps = json.loads(out)
    assert code == 0 and [s["event"] for s in steps][-2:] == ["shadow", "waiting"]
    code, out = _run(root, "watch", "--once")
    assert code == 0 and "p #1 waiting: shadow of" in out


def _watch(root: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "cairn"), "retrain", "watch", "--interval", "0.5",
             "--repo", str(root)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip


def _wait_for(log: Path, text: str, timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if text in log.read_text(errors="replace"):
            return time.monotonic() - began
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in {log}:\n{log.read_text(errors='replace')}")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_one_controller_acts_and_a_standby_takes_over_after_kill_9(
    backend: str, tmp_path: Path
) -> None:
    # nothing to train: this is about who holds the lock (a file lock beside the SQLite
    # database, or a PostgreSQL advisory lock that dies with its connection)
    root = tmp_path / "lock"
    root.mkdir()
    config = f"project: lock_{uuid.uuid4().hex[:8]}\n"
    if backend == "postgres":
        config += f"metadata:\n  url: {postgres_url_or_skip()}\n"
    (root / "cairn.yaml").write_text(config, encoding="utf-8")
    (root / "retraining.yaml").write_text("policies: {}\n", encoding="utf-8")
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    a = _watch(root, first)
    b = None
    try:
        _wait_for(first, "Retraining controller active", 60)
        b = _watch(root, second)
        _wait_for(second, "standing by to take over", 60)
        time.sleep(1.0)
        assert "Retraining controller active" not in second.read_text()
        os.killpg(a.pid, signal.SIGKILL)
        a.wait(10)
        took = _wait_for(second, "Retraining controller active", 10)
        print(f"retraining controller takeover after kill -9: {took:.3f} s")
        assert took < 5.0  # the file lock dies with its process; the standby polls every 0.5 s
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


def test_run_leaves_the_request_to_the_active_controller(root: Path, base: Base) -> None:
    write_policy(root, triggers={})
    holder = controller(root, base.team)
    stop, taken = threading.Event(), threading.Event()
    idle = threading.Thread(
        target=holder.run, args=(stop,), kwargs={"interval": 30.0, "on_active": taken.set}
    )
    idle.start()
    try:
        assert taken.wait(30)
        code, out = _run(root, "run", "--policy", POLICY, "--key", "k2", "--wait", "0.5")
        assert code == 0 and "what is due is recorded and it acts on it" in out
        (entry,) = holder.ledger.entries(POLICY)
        assert (entry.trigger, entry.window, entry.state) == ("manual", "k2", "decided")
    finally:
        stop.set()
        idle.join(30)
