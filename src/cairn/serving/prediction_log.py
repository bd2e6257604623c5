"""An append-only log of records: a write-ahead staging file, then Parquet segments.

``append`` writes one JSON line to this process's staging file with a single ``write(2)``
before the caller answers its client, so an acknowledged record survives the process being
killed (SIGKILL): the kernel holds the bytes. With ``durability="fsync"`` the caller also
awaits :meth:`SegmentLog.sync` (an ``fsync``), which survives a power loss too. A background
thread rotates the staging file every ``flush_ms`` or ``flush_records`` and converts the closed
one into a Parquet segment, then deletes it (:mod:`cairn.serving.log_staging`).

A staging file is created under a hidden name, locked (``flock``, on the descriptor that appends)
and only then renamed into place, so every visible staging file of a live writer is locked. Only
files whose lock can be taken (their writer is gone) are recovered: by
:func:`~cairn.serving.log_staging.recover`, which a writer runs at start-up and
:func:`cairn.serving.log_compaction.compact` runs holding the directory's maintenance lock.
Readers never change the log.
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

from cairn.core.durable import fsync_dir as fsync_dir  # the old import path
from cairn.serving.log_compaction import compact

# The staging-file helpers keep their old import path here.
from cairn.serving.log_staging import LOCK as LOCK
from cairn.serving.log_staging import ORPHAN_AGE_S as ORPHAN_AGE_S
from cairn.serving.log_staging import STAGING, convert, recover
from cairn.serving.log_staging import maintenance_lock as maintenance_lock
from cairn.serving.log_staging import recover_held as recover_held

logger = logging.getLogger("cairn.serving")

Durability = Literal["write", "fsync"]


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
    >>> import pyarrow.parquet as pq
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
