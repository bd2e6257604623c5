"""`cairn retrain run` and `cairn retrain watch` on the example project: a manual run is
idempotent (one run per key, however often it is asked), a refusal exits 1, bad input exits 2,
one controller acts while a second stands by, and the second takes over after a kill -9."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.retraining.controller import LOCK_NAME
from tests._services import postgres_url_or_skip
from tests._watchers import cut_the_leader, kill_the_leader, watchers
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


ACTIVE = "Retraining controller active"


def _lock_project(root: Path, database_url: str | None) -> str:
    """A project with no policy (nothing to train: this is about who holds the lock), its
    metadata on ``database_url`` when given; returns its name."""
    root.mkdir()
    name = f"lock_{uuid.uuid4().hex[:8]}"
    config = f"project: {name}\n"
    if database_url is not None:
        config += f"metadata:\n  url: {database_url}\n"
    (root / "cairn.yaml").write_text(config, encoding="utf-8")
    (root / "retraining.yaml").write_text("policies: {}\n", encoding="utf-8")
    return name


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_one_controller_acts_and_a_standby_takes_over_after_kill_9(
    backend: str, tmp_path: Path
) -> None:
    # a file lock beside the SQLite database, or a PostgreSQL advisory lock that dies with its
    # connection
    root = tmp_path / "lock"
    _lock_project(root, postgres_url_or_skip() if backend == "postgres" else None)
    with watchers(("retrain", "watch"), root, tmp_path) as w:
        took, _ = kill_the_leader(w, ACTIVE)
    # the lock dies with its process; the standby polls every 0.2 s: measured, not asserted (a
    # loaded machine decides it; the helper's deadline bounds it)
    print(f"retraining controller takeover after kill -9: {took:.3f} s")


@pytest.mark.postgres
def test_a_controller_whose_lock_connection_ends_stops_and_stands_by(tmp_path: Path) -> None:
    url = postgres_url_or_skip()
    root = tmp_path / "lock"
    name = _lock_project(root, url)
    with watchers(("retrain", "watch"), root, tmp_path) as w:
        took = cut_the_leader(w, url, LOCK_NAME.format(project=name), ACTIVE)
    print(f"retraining controller takeover after its leader's connection ended: {took:.3f} s")


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
