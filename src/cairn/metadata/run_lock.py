"""A named lock shared by every process using one metadata database: one runner at a time.

Incremental materialization of a view reads its watermark and file set, writes, then records
the new ones; two runs of the same view at once could both take the same rows, or let an
older tile overwrite a newer one. :func:`run_lock` serializes them, without holding a write
transaction of the metadata database for the whole run:

* PostgreSQL: a session-level advisory lock on a key hashed from the name;
* SQLite in a file: an exclusive ``flock`` on a file next to the database
  (``<database>.locks/<hash>.lock``);
* SQLite in memory (one process): a thread lock per name.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_threads: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def run_lock(
    engine: Engine, name: str, *, stop: threading.Event | None = None, poll_s: float = 0.1
) -> Iterator[bool]:
    """Hold the lock ``name`` for the metadata database of ``engine`` (blocks until free).

    With ``stop``, waits only until ``stop`` is set (trying every ``poll_s`` seconds): yields
    True holding the lock, or False, not holding it, when ``stop`` was set first.

    Example
    -------
    >>> engine = sa.create_engine("sqlite://")
    >>> with run_lock(engine, "materialize:p:v"):
    ...     print("alone")
    alone
    """
    digest = hashlib.sha256(name.encode()).digest()
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(digest[:8], "big", signed=True)
        with engine.connect() as conn:

            def take(sql: str) -> bool:
                return bool(conn.execute(sa.text(sql), {"key": key}).scalar())

            held = _acquire(
                lambda: take("SELECT pg_try_advisory_lock(:key)"),
                lambda: take("SELECT pg_advisory_lock(:key)"),
                stop,
                poll_s,
            )
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _guard:
            lock = _threads.setdefault(name, threading.Lock())
        held = _acquire(lambda: lock.acquire(blocking=False), lock.acquire, stop, poll_s)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    import fcntl

    folder = Path(f"{database}.locks")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{digest.hex()[:32]}.lock").open("a") as handle:

        def try_once() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        held = _acquire(try_once, lambda: fcntl.flock(handle, fcntl.LOCK_EX), stop, poll_s)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(
    try_once: Callable[[], bool],
    block: Callable[[], object],
    stop: threading.Event | None,
    poll_s: float,
) -> bool:
    """Take a lock: blocking without ``stop``; else by tries until taken (True) or ``stop``
    is set (False)."""
    if stop is None:
        block()
        return True
    while not try_once():
        if stop.wait(poll_s):
            return False
    return True
