"""What every store with tables in the metadata database shares: the engine it works on, the
schema it brings to its head once per engine, and UTC times read back from SQLite.

The quality results, the registry's audit log and approvals, the monitoring history and the
rollout specs each keep a ``sa.MetaData`` of their own next to the metadata store's tables, in
the same database (SQLite by default, PostgreSQL by URL). Their tables are created and changed
by the one migration history (:mod:`cairn.metadata.schema`), not by ``create_all``.

Example
-------
>>> import sqlalchemy as sa
>>> from cairn.metadata.schema import HEAD, revision
>>> meta = sa.MetaData()
>>> _ = sa.Table("cairn_example", meta, sa.Column("id", sa.Integer, primary_key=True))
>>> engine = engine_of("sqlite://")
>>> create_tables(meta, engine)
>>> sa.inspect(engine).has_table("cairn_example"), revision(engine) == HEAD
(True, True)
>>> utc(datetime(2026, 3, 1)).isoformat()
'2026-03-01T00:00:00+00:00'
"""

from __future__ import annotations

import threading
import weakref
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.metadata.schema import TABLES, upgrade
from cairn.metadata.store import MetadataStore

_ready: weakref.WeakKeyDictionary[sa.MetaData, weakref.WeakSet[Engine]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()
_MIGRATED = frozenset(TABLES)


def engine_of(metadata: MetadataStore | Engine | str, *, root: Path | None = None) -> Engine:
    """The engine of a :class:`~cairn.metadata.MetadataStore`, an engine itself, or a new
    metadata store's engine for a database URL (relative SQLite paths resolve against
    ``root``; a bad URL is a :class:`~cairn.core.errors.ConfigError`)."""
    if isinstance(metadata, str):
        metadata = MetadataStore(metadata, root=root)
    return metadata.engine if isinstance(metadata, MetadataStore) else metadata


def create_tables(metadata: sa.MetaData, engine: Engine) -> None:
    """Make sure the tables of ``metadata`` exist on ``engine``: bring the database's schema to
    its head (:func:`cairn.metadata.schema.upgrade`, which creates every ``cairn_*`` table),
    then create any other table of ``metadata`` that is missing (once per engine).

    Safe when other processes open the same database at the same time.
    """
    upgrade(engine)
    with _lock:
        ready = _ready.setdefault(metadata, weakref.WeakSet())
        if engine in ready:
            return
        own = [t for t in metadata.sorted_tables if t.name not in _MIGRATED]
        if own:
            try:
                metadata.create_all(engine, tables=own)
            except (sa.exc.IntegrityError, sa.exc.OperationalError, sa.exc.ProgrammingError):
                # Another process created them between the existence check and CREATE TABLE.
                metadata.create_all(engine, tables=own)
        ready.add(engine)


def utc(ts: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite drops the zone; only UTC is stored)."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
