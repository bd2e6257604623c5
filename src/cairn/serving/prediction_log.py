"""An append-only log of records: a write-ahead staging file, then Parquet segments.

``append`` writes one JSON line to this process's staging file with a single ``write(2)``
before the caller answers its client, so an acknowledged record survives the process being
killed (SIGKILL): the kernel holds the bytes. With ``durability="fsync"`` the caller also
awaits :meth:`SegmentLog.sync` (an ``fsync``), which survives a power loss too. A background
thread rotates the staging file every ``flush_ms`` or ``flush_records`` and converts the closed
one into a Parquet segment (written under a temporary name, then renamed), then deletes it.

Each live staging file is locked (``flock``); at start-up, and before a query, staging files
nobody holds (left by a killed process) are converted the same way. A segment's name derives
from its staging file, so a crash between the rename and the delete never duplicates records.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

logger = logging.getLogger("cairn.serving")

Durability = Literal["write", "fsync"]
STAGING = "staging"


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
    ) -> None:
        self.directory = Path(directory)
        self.schema = schema
        self.durability = durability
        self.flush_ms = flush_ms
        self.flush_records = flush_records
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
        recover(self.directory, schema)

    def _open(self) -> int:
        self._seq += 1
        path = self.staging / f"{self._prefix}-{self._seq:08d}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._path = path
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

    def close(self) -> None:
        """Stop the flusher and convert everything staged."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
                self._path.unlink(missing_ok=True)

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
    rows: list[dict[str, Any]] = []
    for line in staged.read_bytes().splitlines():
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            logger.warning("Skipping a torn line in %s", staged)
    if rows:
        table = pa.Table.from_pylist(rows, schema=schema)
        partial = directory / f".{staged.stem}.parquet.tmp"
        pq.write_table(table, partial)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
    staged.unlink(missing_ok=True)
    return target if rows else None


def recover(directory: str | Path, schema: pa.Schema) -> int:
    """Convert staging files no live process holds; returns how many were converted."""
    directory = Path(directory)
    staging = directory / STAGING
    done = 0
    for path in sorted(staging.glob("*.jsonl")) if staging.is_dir() else []:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a live writer holds it
        try:
            if path.exists():
                convert(path, directory, schema)
                done += 1
        finally:
            os.close(fd)
    for partial in directory.glob(".*.parquet.tmp"):
        partial.unlink(missing_ok=True)
    return done
