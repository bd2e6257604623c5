"""Helpers of the singleton tests: `cairn deploy watch` / `cairn retrain watch` as real
processes (each in its own session, so a kill -9 of its group kills only it), waiting for a
line in a process's output, and the PostgreSQL backend holding a singleton lock (to cut it
with ``pg_terminate_backend`` as a server restart or a network cut would)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from cairn.metadata.run_lock import advisory_key


class Watchers:
    """The watcher processes a test started; :func:`watchers` kills those still running."""

    def __init__(self, command: tuple[str, ...], root: Path, logs: Path) -> None:
        self.command, self.root, self.logs = command, root, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *, interval: float = 0.5) -> Path:
        """Start ``cairn COMMAND --interval INTERVAL --repo ROOT``; returns its output file."""
        log = self.logs / f"{name}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        command = [str(Path(sys.executable).parent / "cairn"), *self.command]
        command += ["--interval", f"{interval:g}", "--repo", str(self.root)]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.procs.append(proc)
        return log

    def kill(self, index: int) -> None:
        """kill -9 the ``index``-th started process (its whole session) and reap it."""
        proc = self.procs[index]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@contextmanager
def watchers(command: tuple[str, ...], root: Path, logs: Path) -> Iterator[Watchers]:
    """Start watchers with :meth:`Watchers.start`; every one still running is killed at the
    end."""
    started = Watchers(command, root, logs)
    try:
        yield started
    finally:
        for proc in started.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def wait_for(log: Path, text: str, timeout: float, *, after: int = 0) -> float:
    """Seconds until ``text`` appears in ``log`` (past character ``after``); fails with the
    output after ``timeout`` seconds."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if text in log.read_text(errors="replace")[after:]:
            return time.monotonic() - began
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in {log}:\n{log.read_text(errors='replace')}")


def wait_turns(log: Path, turn: str, count: int) -> None:
    """Wait until ``turn`` appears ``count`` more times in ``log`` than now."""
    seen = log.read_text(errors="replace").count(turn)
    began = time.monotonic()
    while log.read_text(errors="replace").count(turn) < seen + count:
        if time.monotonic() - began > DEADLINE_S:
            raise AssertionError(
                f"{turn!r} not {count} more times in {log}:\n{log.read_text(errors='replace')}"
            )
        time.sleep(0.02)


def lock_backend(database_url: str, name: str) -> int:
    """The pid of the PostgreSQL backend holding the advisory lock ``name`` (fails when none
    does)."""
    key = advisory_key(name) & 0xFFFFFFFFFFFFFFFF
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND objsubid = 1 AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            ).scalars()
            (pid,) = list(pids)
    finally:
        engine.dispose()
    return int(pid)


def terminate_backend(database_url: str, *pids: int) -> None:
    """``pg_terminate_backend`` of every one of ``pids`` in one statement (so their holder
    cannot act in between), from a connection of its own, as a server restarting those
    backends (or a cut network seen by the server) would end them."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            ended = conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"),
                {"pids": list(pids)},
            ).scalars()
            assert all(ended)
    finally:
        engine.dispose()


DEADLINE_S = 60.0
"""Seconds a helper waits for a line: far beyond a takeover on a fast machine (a poll, under
a second), and beyond one on a loaded CI machine too (a process can take tens of seconds to
start, import and answer there); a fast machine never waits that long."""

STANDBY = "standing by to take over"
LOST = "Lost leadership"


def kill_the_leader(w: Watchers, active: str, turn: str | None = None) -> tuple[float, float]:
    """A first watcher acts, a second stands by (acting on nothing); after a kill -9 of the
    first the second acts. Returns the seconds from the kill to the second's ``active`` line and
    to its first ``turn`` line (``active`` again without one). Every wait is on a line, with a
    deadline (:data:`DEADLINE_S`) a loaded machine does not reach."""
    first = w.start("first")
    wait_for(first, active, DEADLINE_S)
    if turn is not None:
        wait_for(first, turn, DEADLINE_S)
    second = w.start("second")
    wait_for(second, STANDBY, DEADLINE_S)
    if turn is not None:  # three more turns of the leader: the standby acts on none of them
        wait_turns(first, turn, 3)
        assert turn not in second.read_text()
    else:
        time.sleep(1.5)  # three intervals: the standby does not act
    assert active not in second.read_text()
    w.kill(0)
    killed = time.monotonic()
    wait_for(second, active, DEADLINE_S)
    took = time.monotonic() - killed
    if turn is not None:
        wait_for(second, turn, DEADLINE_S)
    acted = time.monotonic() - killed
    text = second.read_text()
    assert text.index(STANDBY) < text.index(active)
    return took, acted


def cut_the_leader(
    w: Watchers, database_url: str, lock: str, active: str, turn: str | None = None
) -> float:
    """A first watcher acts, a second stands by; the first one's lock connection is ended
    from a third (``pg_terminate_backend``). The first says it lost leadership and acts no
    more (no ``turn`` line after that), the second takes over, the first stands by (and takes
    over after a kill -9 of the second). Returns the seconds from the cut to the second's
    ``active`` line."""
    first = w.start("first")
    wait_for(first, active, DEADLINE_S)
    if turn is not None:
        wait_for(first, turn, DEADLINE_S)
    second = w.start("second")
    wait_for(second, STANDBY, DEADLINE_S)
    terminate_backend(database_url, lock_backend(database_url, lock))
    cut = time.monotonic()
    wait_for(second, active, DEADLINE_S)
    took = time.monotonic() - cut
    wait_for(first, LOST, DEADLINE_S)
    lost_at = first.read_text().index(LOST)
    wait_for(first, STANDBY, DEADLINE_S, after=lost_at)
    if turn is not None:  # three turns of the new leader: the old one acts on none of them
        wait_turns(second, turn, 3)
    else:
        time.sleep(1.5)  # three intervals: the old leader does not act
    after = first.read_text()[lost_at:]
    assert after.count(LOST) == 1 and active not in after
    if turn is not None:
        assert turn not in after
    w.kill(1)  # the old leader is a standby like any other: it takes over
    wait_for(first, active, DEADLINE_S, after=lost_at)
    if turn is not None:
        wait_for(first, turn, DEADLINE_S, after=first.read_text().rindex(active))
    return took
