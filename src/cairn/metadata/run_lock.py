"""A named lock shared by every process using one metadata database: one runner at a time.

Incremental materialization of a view reads its watermark and file set, writes, then records
the new ones; two runs of the same view at once could both take the same rows, or let an
older tile overwrite a newer one. :func:`run_lock` serializes them, without holding a write
transaction of the metadata database for the whole run:

* PostgreSQL: a session-level advisory lock on a key hashed from the name;
* SQLite in a file: an exclusive ``flock`` on a file next to the database
  (``<database>.locks/<hash>.lock``);
* SQLite in memory (one process): a thread lock per name.

:func:`hold_lock` yields a :class:`Hold` instead of a bool: a long holder (a controller, a
stream processor) asks :meth:`Hold.alive` before each turn whether it still holds the lock. A
PostgreSQL advisory lock dies with its connection while the holder's process lives (the server
restarted its backend, the network was cut, ``pg_terminate_backend``): another process may
hold it since.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = ["CHECK_TIMEOUT_MS", "Hold", "advisory_key", "hold_lock", "run_lock"]

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_MS = 2000
"""Statement timeout of :meth:`Hold.alive`'s query on the lock's connection (milliseconds)."""

_threads: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@dataclass
class Hold:
    """A lock of :func:`hold_lock`: ``held`` (taken, or not when ``stop`` came first) and a
    way to ask whether it still is."""

    held: bool
    _check: Callable[[], bool] = field(default=lambda: True, repr=False)
    lost: bool = False
    """Set once :meth:`alive` found the lock gone."""

    def alive(self) -> bool:
        """Whether the lock is still held: on PostgreSQL one query on the lock's own connection
        (its backend still holds the advisory lock; at most :data:`CHECK_TIMEOUT_MS`); a file
        or thread lock lives as long as its process. False when it was never taken."""
        if not self.held or self.lost:
            return False
        try:
            ok = self._check()
        except sa.exc.SQLAlchemyError as exc:  # the connection died: so did the lock
            logger.debug("lock check failed: %s", exc)
            ok = False
        self.lost = not ok
        return ok


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
    with hold_lock(engine, name, stop=stop, poll_s=poll_s) as hold:
        yield hold.held


@contextmanager
def hold_lock(
    engine: Engine, name: str, *, stop: threading.Event | None = None, poll_s: float = 0.1
) -> Iterator[Hold]:
    """:func:`run_lock` yielding a :class:`Hold` (whose :meth:`~Hold.alive` a long holder asks
    before each turn).

    Example
    -------
    >>> engine = sa.create_engine("sqlite://")
    >>> with hold_lock(engine, "cairn-canary:demo") as hold:
    ...     hold.held, hold.alive()
    (True, True)
    """
    digest = hashlib.sha256(name.encode()).digest()
    if engine.dialect.name == "postgresql":
        key = advisory_key(name)
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
            hold = Hold(held, lambda: _still_held(conn, key))
            try:
                yield hold
            finally:
                if held and not hold.lost:
                    try:
                        conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                        conn.commit()
                    except sa.exc.DBAPIError as exc:  # its connection died, and the lock too
                        logger.debug("lock %s: unlock failed: %s", name, exc)
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _guard:
            lock = _threads.setdefault(name, threading.Lock())
        held = _acquire(lambda: lock.acquire(blocking=False), lock.acquire, stop, poll_s)
        try:
            yield Hold(held)
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
            yield Hold(held)
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory-lock key of the lock ``name`` (a signed 64-bit hash of it).

    Example
    -------
    >>> advisory_key("cairn-canary:demo") == advisory_key("cairn-canary:demo")
    True
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _still_held(conn: Connection, key: int) -> bool:
    """Whether the backend of ``conn`` holds the session advisory lock ``key`` (a bigint key
    shows in ``pg_locks`` as classid = its high 32 bits, objid = its low 32 bits, objsubid 1)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    try:
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {CHECK_TIMEOUT_MS}"))
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objsubid = 1 "
                "AND classid::bigint = :high AND objid::bigint = :low"
            ),
            {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
        ).scalar()
    finally:
        try:
            conn.rollback()  # ends SET LOCAL's transaction (or the failed one)
        except sa.exc.SQLAlchemyError:
            pass
    return bool(found)


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
