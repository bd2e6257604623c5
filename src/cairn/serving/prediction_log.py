"""An append-only log of records: a write-ahead staging file, then Parquet segments.

``append`` writes one JSON line to this process's staging file with a single ``write(2)``
before the caller answers its client, so an acknowledged record survives the process being
killed (SIGKILL): the kernel holds the bytes. With ``durability="fsync"`` the caller also
awaits :meth:`SegmentLog.sync` (an ``fsync``), which survives a power loss too. A background
thread rotates the staging file every ``flush_ms`` or ``flush_records`` and converts the closed
one into a Parquet segment (written under a temporary name, then renamed), then deletes it.

A staging file is created under a hidden name, locked (``flock``, on the descriptor that appends)
and only then renamed into place, so every visible staging file of a live writer is locked. Only
files whose lock can be taken (their writer is gone) are recovered: by :func:`recover`, which a
writer runs at start-up and :func:`cairn.serving.log_compaction.compact` runs holding the
directory's maintenance lock. Readers never change the log. A segment's name derives from its
staging file, so a crash between the rename and the delete never duplicates records.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from cairn.core.durable import fsync_dir as fsync_dir  # the old import path

logger = logging.getLogger("cairn.serving")

Durability = Literal["write", "fsync"]
STAGING = "staging"
LOCK = ".lock"
"""The directory's maintenance lock (recovery and compaction hold it; writers and readers never
need it)."""
ORPHAN_AGE_S = 60.0
"""An unnamed staging file this old whose lock can be taken was left by a writer that died
between creating and naming it."""


class SegmentLog:
    """Records of one schema under ``directory`` (``*.parquet`` segments + ``staging/``).

    Parameters
    ----------
    directory:
        Where the segments go (e.g. ``.cairn/predictions``).
    schema:
        The Parquet schema; records are flat dicts of its columns.
    durability:
        ``write`` (default; survives SIGKILL) or ``fsync`` (survives power loss).
    flush_ms, flush_records:
        Rotate the staging file after this long or this many records.
    maintain_s:
        Every this many seconds (and once at :meth:`start`), the flusher's sibling thread runs
        the directory's maintenance if no other process is: recover files of dead writers,
        compact closed hours (:func:`cairn.serving.log_compaction.compact`). ``0``: never.

    Example
    -------
    >>> import tempfile
    >>> log = SegmentLog(tempfile.mkdtemp(), pa.schema([("id", pa.string())]))
    >>> log.append({"id": "a"}); log.close()
    >>> [t.num_rows for t in map(pq.read_table, sorted(log.directory.glob("*.parquet")))]
    [1]
    """

    def __init__(
        self,
        directory: str | Path,
        schema: pa.Schema,
        *,
        durability: Durability = "write",
        flush_ms: float = 1000.0,
        flush_records: int = 10_000,
        maintain_s: float = 600.0,
    ) -> None:
        self.directory = Path(directory)
        self.schema = schema
        self.durability = durability
        self.flush_ms = flush_ms
        self.flush_records = flush_records
        self.maintain_s = maintain_s
        self.staging = self.directory / STAGING
        self.staging.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._prefix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._seq = 0
        self._count = 0
        self._fd: int | None = self._open()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._maintainer: threading.Thread | None = None
        recover(self.directory, schema, wait=False)  # a busy lock: its holder is recovering

    def _open(self) -> int:
        """A new staging file, locked before it is visible under a name recovery looks at."""
        self._seq += 1
        name = f"{self._prefix}-{self._seq:08d}.jsonl"
        hidden = self.staging / f".{name}.new"
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(hidden, self.staging / name)
            if self.durability == "fsync":  # the name too must survive a power loss
                fsync_dir(self.staging)
        except BaseException:
            os.close(fd)
            hidden.unlink(missing_ok=True)
            raise
        self._path = self.staging / name
        return fd

    def start(self) -> None:
        """Start the background flusher (idempotent; restarts a closed log)."""
        with self._lock:
            if self._fd is None:
                self._fd = self._open()
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cairn-log-flush", daemon=True)
            self._thread.start()
        if self.maintain_s > 0 and (self._maintainer is None or not self._maintainer.is_alive()):
            self._maintainer = threading.Thread(
                target=self._maintain, name="cairn-log-maintain", daemon=True
            )
            self._maintainer.start()

    def append(self, record: Mapping[str, Any]) -> None:
        """Stage one record (one ``write(2)``; durable against SIGKILL when it returns)."""
        line = orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
        self.append_many([line])

    def append_many(self, lines: list[bytes]) -> None:
        """Stage pre-serialized JSON lines with one ``write(2)``."""
        data = b"".join(lines)
        with self._lock:
            if self._fd is None:  # appended after close: reopen rather than lose the record
                self._fd = self._open()
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self._count += len(lines)
            full = self._count >= self.flush_records
        if full:
            self._wake.set()

    def sync(self) -> None:
        """``fsync`` the staging file (``durability="fsync"`` awaits this before answering)."""
        with self._lock:
            fd = self._fd
        if fd is None:
            return
        try:
            os.fsync(fd)
        except OSError:  # rotated and closed meanwhile: the rotation synced it
            pass

    def flush(self) -> None:
        """Rotate the staging file and convert the closed one into a segment now."""
        with self._lock:
            if self._count == 0 or self._fd is None:
                return
            old_fd, old_path = self._fd, self._path
            self._fd = self._open()
            self._count = 0
        try:
            if self.durability == "fsync":
                os.fsync(old_fd)
            convert(old_path, self.directory, self.schema)
        finally:
            os.close(old_fd)  # held until converted, so recovery elsewhere never races it

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_ms / 1000)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep staging; a later flush or recovery converts the file
                logger.exception("Flushing the log in %s failed", self.directory)

    def _maintain(self) -> None:
        from cairn.serving.log_compaction import compact

        while True:
            try:
                compact(self.directory, self.schema, wait=False)
            except Exception:  # the log stays correct uncompacted; try again next time
                logger.exception("Maintaining the log in %s failed", self.directory)
            if self._stop.wait(self.maintain_s):
                return

    def close(self) -> None:
        """Stop the flusher and convert everything staged."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._maintainer is not None:
            self._maintainer.join(timeout=5)  # a compaction cut short is safe (crash-safe swap)
        self.flush()
        with self._lock:
            if self._fd is not None:
                self._path.unlink(missing_ok=True)  # empty (flushed); unlinked while locked
                os.close(self._fd)
                self._fd = None

    def staged_lines(self) -> list[bytes]:
        """Every staged line not yet in a segment, across processes (for point lookups)."""
        lines: list[bytes] = []
        for path in sorted(self.staging.glob("*.jsonl")):
            try:
                lines.extend(path.read_bytes().splitlines())
            except FileNotFoundError:
                continue
        return lines


def convert(staged: Path, directory: Path, schema: pa.Schema) -> Path | None:
    """Turn one staging file into ``directory/<stem>.parquet`` and delete it.

    A line cut short by a crash mid-write is skipped (it was never acknowledged).
    """
    target = directory / f"{staged.stem}.parquet"
    if target.exists():  # converted before a crash, not yet deleted
        staged.unlink(missing_ok=True)
        return target
    data = staged.read_bytes()
    table = _read_lines(data, schema) if data.strip() else None
    if table is None:  # a torn line, or a value the fast reader does not take: line by line
        rows: list[dict[str, Any]] = []
        for line in data.splitlines():
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                logger.warning("Skipping a torn line in %s", staged)
        table = pa.Table.from_pylist(rows, schema=schema) if rows else None
    if table is not None and table.num_rows:
        partial = directory / f".{staged.stem}.parquet.tmp"
        pq.write_table(table, partial)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
    staged.unlink(missing_ok=True)
    return target if table is not None and table.num_rows else None


def _read_lines(data: bytes, schema: pa.Schema) -> pa.Table | None:
    """JSON lines as a table of ``schema`` by Arrow's reader, which parses without holding the
    GIL (a per-row Python conversion would stall the server's event loop for milliseconds
    each flush); None when any line does not parse as the schema (timestamps arrive as
    microseconds since the epoch)."""
    raw = pa.schema(
        [pa.field(f.name, pa.int64()) if pa.types.is_timestamp(f.type) else f for f in schema]
    )
    options = pa_json.ParseOptions(explicit_schema=raw, unexpected_field_behavior="ignore")
    try:
        table = pa_json.read_json(
            pa.BufferReader(data),
            read_options=pa_json.ReadOptions(use_threads=False),
            parse_options=options,
        )
        return table.select(schema.names).cast(schema)
    except (pa.ArrowException, ValueError, TypeError):
        return None


@contextlib.contextmanager
def maintenance_lock(directory: str | Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the directory's maintenance lock; yields False (holding nothing) when ``wait`` is
    False and another process holds it."""
    path = Path(directory) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _if_writer_gone(path: Path, action: Callable[[], object]) -> bool:
    """Run ``action`` holding ``path``'s lock if its writer is gone; False if it is alive or the
    file went away (its writer converted it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer holds it
        try:  # the writer may have converted and deleted it before letting go of the lock
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                return False
        except FileNotFoundError:
            return False
        action()
        return True
    finally:
        os.close(fd)


def _recover_unnamed(hidden: Path, directory: Path, schema: pa.Schema) -> None:
    """An unnamed staging file is empty, unless a power loss lost its rename: convert it then."""
    if hidden.stat().st_size == 0:
        hidden.unlink(missing_ok=True)
        return
    named = hidden.with_name(hidden.name[1 : -len(".new")])
    os.rename(hidden, named)
    convert(named, directory, schema)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def recover(directory: str | Path, schema: pa.Schema, *, wait: bool = True) -> int:
    """Convert the staging files of writers that are gone; returns how many were converted.

    Holds the directory's maintenance lock (``wait=False``: does nothing if another process
    holds it). A file is a dead writer's when its ``flock`` can be taken: a live writer holds
    the lock on every staging file it has open. Temporary files are removed only when their
    owner is gone.
    """
    directory = Path(directory)
    if not (directory / STAGING).is_dir():
        return 0
    with maintenance_lock(directory, wait=wait) as held:
        return recover_held(directory, schema) if held else 0


def recover_held(directory: Path, schema: pa.Schema) -> int:
    """:func:`recover` for a caller that holds the maintenance lock."""
    staging = directory / STAGING
    done = 0
    for path in sorted(staging.glob("*.jsonl")):
        done += _if_writer_gone(path, functools.partial(convert, path, directory, schema))
    for hidden in staging.glob(".*.jsonl.new"):  # its writer died before naming it
        if _age(hidden) > ORPHAN_AGE_S:  # not one a writer is between creating and locking
            _if_writer_gone(hidden, functools.partial(_recover_unnamed, hidden, directory, schema))
    for partial in directory.glob(".*.parquet.tmp"):
        # a converter writes it holding its staging file's lock and renames it before deleting
        # that file, and compaction holds the maintenance lock: no staging file left means the
        # owner died
        stem = partial.name[1 : -len(".parquet.tmp")]
        if not (staging / f"{stem}.jsonl").exists():
            partial.unlink(missing_ok=True)
    return done
