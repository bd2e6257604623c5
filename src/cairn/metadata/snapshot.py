"""A read connection whose statements all see one snapshot of the metadata database.

A reader that runs several statements (the audit chain's entries, then its head, then the
registry tables it reconciles) must not see a writer's commit between them: the head would
trail its own entries and a healthy chain would read as tampered. SQLite (WAL) keeps one
snapshot for an explicit read transaction; PostgreSQL does under ``REPEATABLE READ``.

Example
-------
>>> import sqlalchemy
>>> engine = sqlalchemy.create_engine("sqlite://")
>>> with read_snapshot(engine) as conn:
...     conn.exec_driver_sql("SELECT 1").scalar()
1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

__all__ = ["read_snapshot"]


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one read-only transaction: every statement sees the same snapshot."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # the driver must not open transactions by itself: this BEGIN holds the snapshot
            # from the first read to the end (WAL readers never block writers)
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.exec_driver_sql("ROLLBACK")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin() as tx:
                yield conn
                tx.rollback()
