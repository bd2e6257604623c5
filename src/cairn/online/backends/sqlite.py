"""The embedded online store: SQLite in WAL mode, one connection per thread."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from cairn.core.errors import OnlineStoreError, StreamFencedError
from cairn.core.online import EncodedRecord, EncodedTile, SnapshotRecord, StreamFence, TileRecord
from cairn.core.types import Micros

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshot (
    view TEXT NOT NULL, key TEXT NOT NULL, ev INTEGER NOT NULL, cr INTEGER NOT NULL,
    seq INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (view, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (
    view TEXT NOT NULL, grp TEXT NOT NULL, key TEXT NOT NULL, start INTEGER NOT NULL,
    asof INTEGER NOT NULL, states BLOB NOT NULL, PRIMARY KEY (view, grp, key, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_checkpoints (
    name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_fences (
    name TEXT PRIMARY KEY, token BLOB NOT NULL) WITHOUT ROWID;
"""
_UPSERT = (
    "INSERT INTO snapshot VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (view, key) DO UPDATE SET "
    "ev = excluded.ev, cr = excluded.cr, seq = excluded.seq, value = excluded.value "
    "WHERE (excluded.ev, excluded.cr, excluded.seq) > (snapshot.ev, snapshot.cr, snapshot.seq)"
)
_UPSERT_TILE = (
    "INSERT INTO tiles VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (view, grp, key, start) DO UPDATE "
    "SET asof = excluded.asof, states = excluded.states WHERE excluded.asof >= tiles.asof"
)
_READ_ONE = "SELECT ev, cr, seq, value FROM snapshot WHERE view = ? AND key = ?"
_READ_TILES = (
    "SELECT start, asof, states FROM tiles WHERE view = ? AND grp = ? AND key = ? "
    "AND start BETWEEN ? AND ? ORDER BY start"
)
_CHUNK = 500
F = TypeVar("F", bound=Callable[..., Any])


def _serialized(method: F) -> F:
    """Run the method holding the store's lock (a no-op lock for file databases)."""

    @functools.wraps(method)
    def wrapper(self: SqliteOnlineStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class SqliteOnlineStore:
    """Online store in one SQLite file.

    Parameters
    ----------
    path:
        The database file (created with its folder); ``":memory:"`` for a private store.

    Example
    -------
    >>> store = SqliteOnlineStore(":memory:")
    >>> store.write("v", [SnapshotRecord("1", 10, 10, 0, [1.5])])
    1
    >>> store.write("v", [SnapshotRecord("1", 5, 5, 0, [9.9])])  # older: ignored
    0
    >>> store.read("v", ["1", "2"])[0].values, store.read("v", ["2"])
    ([1.5], [None])
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        # one private in-memory database is one connection: threads take turns on it
        self._lock: threading.RLock | contextlib.nullcontext[None] = (
            threading.RLock() if self.path == ":memory:" else contextlib.nullcontext()
        )
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        if self.path == ":memory:":  # one private database, shared by the threads of this object
            if self._shared is None:
                self._shared = sqlite3.connect(":memory:", check_same_thread=False)
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                # a stream commit rewrites tiles all over the table: with the default 2 MiB
                # page cache, pages it evicts are read back (and looked up in the WAL)
                conn.execute("PRAGMA cache_size=-32768")
            except sqlite3.Error as exc:
                raise OnlineStoreError(
                    f"Cannot open the online store at {self.url}: {exc}"
                ) from None
            self._local.conn = conn
        return conn

    def write_encoded(self, view: str, rows: Sequence[EncodedRecord]) -> int:
        return self._write_many(_UPSERT, [(view, *row) for row in rows])

    def write(self, view: str, records: Sequence[SnapshotRecord]) -> int:
        rows = [
            (view, r.key, r.event_ts, r.created_ts, r.seq, orjson.dumps(r.values)) for r in records
        ]
        return self._write_many(_UPSERT, rows)

    @_serialized
    def read(self, view: str, keys: Sequence[str]) -> list[SnapshotRecord | None]:
        conn = self._conn()
        if len(keys) == 1:
            row = conn.execute(_READ_ONE, (view, keys[0])).fetchone()
            if row is None:
                return [None]
            return [SnapshotRecord(keys[0], row[0], row[1], row[2], orjson.loads(row[3]))]
        found: dict[str, SnapshotRecord] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = list(dict.fromkeys(keys[i : i + _CHUNK]))
            marks = ",".join("?" * len(chunk))
            for key, ev, cr, seq, value in conn.execute(
                f"SELECT key, ev, cr, seq, value FROM snapshot WHERE view = ? AND key IN ({marks})",
                (view, *chunk),
            ):
                found[key] = SnapshotRecord(key, ev, cr, seq, orjson.loads(value))
        return [found.get(k) for k in keys]

    def write_tiles(self, view: str, tiles: Sequence[TileRecord]) -> int:
        rows = [(view, t.group, t.key, t.start, t.asof, orjson.dumps(t.states)) for t in tiles]
        return self._write_many(_UPSERT_TILE, rows)

    @_serialized
    def read_tiles(
        self, view: str, group: str, keys: Sequence[str], start: Micros, end: Micros
    ) -> list[list[TileRecord]]:
        conn = self._conn()
        if len(keys) == 1:
            rows = conn.execute(_READ_TILES, (view, group, keys[0], start, end)).fetchall()
            return [[TileRecord(keys[0], group, s, a, orjson.loads(st)) for s, a, st in rows]]
        found: dict[str, list[TileRecord]] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = list(dict.fromkeys(keys[i : i + _CHUNK]))
            marks = ",".join("?" * len(chunk))
            for key, s, asof, states in conn.execute(
                "SELECT key, start, asof, states FROM tiles WHERE view = ? AND grp = ? "
                f"AND key IN ({marks}) AND start BETWEEN ? AND ? ORDER BY key, start",
                (view, group, *chunk, start, end),
            ):
                found.setdefault(key, []).append(
                    TileRecord(key, group, s, asof, orjson.loads(states))
                )
        return [list(found.get(k, ())) for k in keys]

    def commit_stream(
        self,
        name: str,
        tiles: Sequence[tuple[str, TileRecord]],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        rows = [
            (view, t.group, t.key, t.start, t.asof, orjson.dumps(t.states)) for view, t in tiles
        ]
        self.commit_stream_encoded(name, rows, checkpoint, fence=fence)

    @_serialized
    def claim_stream_fence(self, fence: StreamFence) -> None:
        with self._immediate("Claiming stream partitions") as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO stream_fences VALUES (?, ?)",
                [(n, fence.token) for n in fence.names],
            )

    @_serialized
    def commit_stream_encoded(
        self,
        name: str,
        tiles: Sequence[EncodedTile],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        with self._immediate("Stream commit") as conn:
            if fence is not None:
                held = conn.execute(
                    f"SELECT count(*) FROM stream_fences WHERE token = ? AND name IN "
                    f"({', '.join('?' * len(fence.names))})",
                    (fence.token, *fence.names),
                ).fetchone()[0]
                if held != len(set(fence.names)):  # rolled back: nothing of it is written
                    raise StreamFencedError(
                        f"Stream commit {name!r} refused by the online store at {self.url}: "
                        f"another processor claimed its partitions since."
                    )
            conn.executemany("INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?, ?, ?)", tiles)
            conn.execute(
                "INSERT OR REPLACE INTO stream_checkpoints VALUES (?, ?)", (name, checkpoint)
            )

    @_serialized
    def read_stream_checkpoint(self, name: str) -> bytes | None:
        row = (
            self._conn()
            .execute("SELECT value FROM stream_checkpoints WHERE name = ?", (name,))
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    @_serialized
    def delete_view(self, view: str) -> None:
        conn = self._conn()
        conn.execute("BEGIN")
        conn.execute("DELETE FROM snapshot WHERE view = ?", (view,))
        conn.execute("DELETE FROM tiles WHERE view = ?", (view,))
        conn.execute("COMMIT")

    @_serialized
    def ping(self) -> None:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise OnlineStoreError(f"The online store at {self.url} is not usable: {exc}") from None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    @_serialized
    def _write_many(self, sql: str, rows: Sequence[tuple[object, ...]]) -> int:
        if not rows:
            return 0
        before = self._conn().total_changes
        with self._immediate("Write") as conn:
            conn.executemany(sql, rows)
        return conn.total_changes - before

    @contextlib.contextmanager
    def _immediate(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), rolled back on any
        error; an SQLite error becomes one :class:`OnlineStoreError` naming ``what``."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise OnlineStoreError(
                    f"{what} in the online store at {self.url} failed: {exc}"
                ) from None
            raise
