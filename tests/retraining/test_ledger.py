"""The retraining ledger on SQLite and PostgreSQL: one entry per key, whoever records it and
however often, and state moves that only follow the graph."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cairn.retraining import Decision, Ledger, LedgerConflict, TransitionError
from cairn.retraining.entry import STATES, TERMINAL, TRANSITIONS

ROOT = Path(__file__).resolve().parents[2]


def _decision(window: str = "w", action: str = "run", policy: str = "credit") -> Decision:
    return Decision(policy, "drift", window, action, "3 features drifted", 1_000, {"psi": 0.4})  # type: ignore[arg-type]


def test_record_is_idempotent_and_keeps_the_first(metadata_url: str, project_name: str) -> None:
    ledger = Ledger(metadata_url, project=project_name)
    first = ledger.record(_decision())
    again = ledger.record(Decision("credit", "drift", "w", "skip", "other", 2_000))
    assert again == first and (first.state, first.numbers) == ("decided", {"psi": 0.4})
    skip = ledger.record(_decision("w2", "skip"))
    assert skip.state == "skipped" and skip.id != first.id
    other = Ledger(metadata_url, project=f"{project_name}_b")  # projects do not share keys
    assert other.record(_decision()).id != first.id
    assert [e.window for e in ledger.entries("credit")] == ["w", "w2"]
    assert ledger.last_run("credit") == first and ledger.last_run("nope") is None


def test_advance_follows_the_graph(metadata_url: str, project_name: str) -> None:
    ledger = Ledger(metadata_url, project=project_name)
    entry = ledger.record(_decision())
    with pytest.raises(TransitionError, match="cannot move from decided to challenger"):
        ledger.advance(entry, "challenger")
    training = ledger.advance(entry, "training", {"rows": 10}, training_run_id="run-1")
    with pytest.raises(LedgerConflict, match="is in state training, not decided"):
        ledger.advance(entry, "training")  # a second controller read it before the move
    trained = ledger.advance(training, "trained", {"auc": 0.81}, reason="trained")
    assert trained.numbers == {"psi": 0.4, "rows": 10, "auc": 0.81}
    assert trained.training_run_id == "run-1" and trained.reason == "trained"
    refused = ledger.advance(trained, "refused", {"failed_gate": "max_loss"})
    assert ledger.get(refused.id).state == "refused" and refused.state in TERMINAL
    with pytest.raises(TransitionError):
        ledger.advance(refused, "gated")
    assert refused.updated_at is not None and refused.created_at is not None
    assert refused.updated_at >= refused.created_at


def test_every_state_is_reachable_and_ends() -> None:
    reached = {"decided", "skipped"}
    frontier = ["decided"]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached == set(STATES)
    assert {"approved", "rejected", "refused", "failed", "skipped"} == TERMINAL


def test_concurrent_processes_record_each_key_once(
    metadata_url: str, project_name: str, tmp_path: Path
) -> None:
    keys, rounds = 40, 3
    Ledger(metadata_url, project=project_name)  # the schema exists before the race
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}

    def start(seed: int) -> tuple[subprocess.Popen[bytes], Path]:
        progress = tmp_path / f"progress{seed}"
        args = [metadata_url, project_name, str(keys), str(rounds), str(seed), str(progress)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.retraining._ledger_worker", *args],
            cwd=ROOT, env=env, stderr=subprocess.PIPE,
        )  # fmt: skip
        return proc, progress

    workers = [start(seed) for seed in range(1, 5)]
    victim, victim_progress = workers[0]
    while victim.poll() is None and _lines(victim_progress) < keys // 2:
        time.sleep(0.01)  # waiting for the victim to be mid-way, not a timing assertion
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    for proc, _ in workers[1:]:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    ids: dict[tuple[str, str], set[str]] = {}
    for _, progress in workers:
        for line in progress.read_text().splitlines():
            policy, k, entry_id = line.split()
            ids.setdefault((policy, k), set()).add(entry_id)
    assert all(len(found) == 1 for found in ids.values())  # every process saw the same row
    engine = sa.create_engine(metadata_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT policy, window_key, count(*) FROM cairn_retraining_ledger "
                "WHERE project = :p GROUP BY policy, window_key"
            ),
            {"p": project_name},
        ).all()
    engine.dispose()
    assert sorted((p, w, n) for p, w, n in rows) == sorted(
        (p, f"w{k}", 1) for p in ("p", "q") for k in range(keys)
    )
    ledger = Ledger(metadata_url, project=project_name)
    assert {e.state for e in ledger.entries("q")} == {"skipped"}
    assert len(ledger.entries("p")) == keys


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0
