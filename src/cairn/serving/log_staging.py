"""The staging files of a segment log, and how each becomes a Parquet segment.

A writer appends to its own staging files under ``staging/``, each locked (``flock``) on the
descriptor that appends, and converts each closed one with :func:`convert`: the segment is
written under a temporary name, fsynced, renamed into place, and only then is the staging file
deleted; the segment's name derives from its staging file, so a crash between the rename and the
delete never duplicates records. The files of a writer that is gone (their lock can be taken)
are converted by :func:`recover`, holding the directory's maintenance lock
(:func:`maintenance_lock`), which compaction holds too.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

logger = logging.getLogger("cairn.serving")

STAGING = "staging"
LOCK = ".lock"
"""The directory's maintenance lock (recovery and compaction hold it; writers and readers never
need it)."""
ORPHAN_AGE_S = 60.0
"""An unnamed staging file this old whose lock can be taken was left by a writer that died
between creating and naming it."""


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
