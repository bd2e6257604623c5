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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_threads: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def run_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock ``name`` for the metadata database of ``engine`` (blocks until free).

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
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _guard:
            lock = _threads.setdefault(name, threading.Lock())
        with lock:
            yield
        return
    import fcntl

    folder = Path(f"{database}.locks")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{digest.hex()[:32]}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
