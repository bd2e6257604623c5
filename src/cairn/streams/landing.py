"""Landing processed events in the batch source: staged before the commit, published after.

Each micro-batch's rows are written to a hidden staging file named by the commit time
(``.stream-<source>-<commit µs>.parquet.pending``, which the offline engine does not read)
*before* tiles and checkpoint are committed, then renamed to ``part-<commit µs>-stream-<source>
.parquet`` (or appended to a Delta table with the commit time in the commit's metadata). A
crash between the two is repaired at start-up: a staged file whose commit time is the
checkpoint's was committed and is published; any other was not and is deleted (its events
are read again from the checkpoint's offsets). Publishing twice is a no-op.

Staging, publishing, discarding and repairing one processor's batches hold one file lock
(``.stream-<source>.lock`` in the staging folder): a processor that lost its partitions may
still be staging or publishing while the one that took them over repairs at start-up, and
neither may see the other's half-written file nor both append one batch to a Delta table.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.durable import fsync_dir
from cairn.core.errors import SourceError
from cairn.features.source import FileSource

_META = "cairn.stream.commit"
CHECKPOINT_KEY = b"cairn.stream.checkpoint"
"""Parquet metadata key of the checkpoint committed with a landed batch."""


def _folder(batch: FileSource, root: Path) -> Path:
    path = batch.resolve(root)
    if path.suffix in (".parquet", ".csv") or path.is_file():
        raise SourceError(
            f"Batch source {batch.name!r} of a stream must be a folder (Parquet files or a "
            f"Delta table); {path} is a file."
        )
    return path


def _is_delta(batch: FileSource, root: Path) -> bool:
    return batch.file_format == "delta" or (batch.resolve(root) / "_delta_log").is_dir()


def has_landed(batch: FileSource, root: Path) -> bool:
    """Whether the batch source holds anything yet (a Parquet file or a Delta table)."""
    path = batch.resolve(root)
    return path.is_dir() and ((path / "_delta_log").is_dir() or any(path.rglob("*.parquet")))


def staging_dir(batch: FileSource, root: Path) -> Path:
    """Where staged batches wait (inside the Parquet folder; beside a Delta table)."""
    folder = _folder(batch, root)
    return folder.parent / f".{folder.name}.staging" if _is_delta(batch, root) else folder


def staged_name(source: str, commit_us: int) -> str:
    """The staging file of one batch."""
    return f".stream-{source}-{commit_us:020d}.parquet.pending"


def published_name(source: str, commit_us: int) -> str:
    """The landed file of one batch (name order is commit order)."""
    return f"part-{commit_us:020d}-stream-{source}.parquet"


def existing_schema(batch: FileSource, root: Path) -> pa.Schema | None:
    """The schema of what already landed (None before the first batch)."""
    folder = _folder(batch, root)
    if _is_delta(batch, root):
        if not (folder / "_delta_log").is_dir():
            return None
        from deltalake import DeltaTable

        return pa.schema(DeltaTable(str(folder)).schema().to_arrow())
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    return pq.read_schema(files[-1]) if files else None


def last_checkpoint(batch: FileSource, root: Path, source: str) -> bytes | None:
    """The checkpoint stored with the newest batch this source published to a Parquet folder
    (None when there is none): what a processor resumes from when its online store lost it."""
    folder = _folder(batch, root)
    if _is_delta(batch, root):
        return _delta_checkpoint(folder, source)
    if not folder.is_dir():
        return None
    files = sorted(folder.glob(f"part-*-stream-{source}.parquet"))
    if not files:
        return None
    meta = pq.read_schema(files[-1]).metadata or {}
    return meta.get(CHECKPOINT_KEY)


@contextmanager
def _locked(batch: FileSource, root: Path, source: str) -> Iterator[Path]:
    """Hold the landing lock of ``source`` (see the module); yields the staging folder."""
    folder = staging_dir(batch, root)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".stream-{source}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stage(batch: FileSource, root: Path, source: str, commit_us: int, table: pa.Table) -> Path:
    """Write one batch's rows durably to its staging file; returns its path."""
    with _locked(batch, root, source) as folder:
        target = folder / staged_name(source, commit_us)
        tmp = target.with_name(target.name + ".tmp")
        pq.write_table(table, tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(target)
    return target


def publish(batch: FileSource, root: Path, source: str, commit_us: int) -> None:
    """Make a staged, committed batch part of the batch source (a no-op when done already)."""
    with _locked(batch, root, source):
        _publish(batch, root, source, commit_us)


def _publish(batch: FileSource, root: Path, source: str, commit_us: int) -> None:
    staged = staging_dir(batch, root) / staged_name(source, commit_us)
    if not staged.exists():
        return
    folder = _folder(batch, root)
    if _is_delta(batch, root):
        tag = f"{source}:{commit_us}"
        if not _delta_has(folder, tag):
            from deltalake import CommitProperties, write_deltalake

            table = pq.read_table(staged)
            meta = {_META: tag}
            checkpoint = (table.schema.metadata or {}).get(CHECKPOINT_KEY)
            if checkpoint is not None:
                meta[CHECKPOINT_KEY.decode()] = checkpoint.decode()
            write_deltalake(
                str(folder),
                table.replace_schema_metadata(None),
                mode="append",
                commit_properties=CommitProperties(custom_metadata=meta),
            )
        staged.unlink()
        return
    staged.replace(folder / published_name(source, commit_us))
    fsync_dir(folder)


def discard(batch: FileSource, root: Path, source: str, commit_us: int) -> None:
    """Delete a staged batch whose commit was refused (a no-op when it is gone already)."""
    with _locked(batch, root, source) as folder:
        (folder / staged_name(source, commit_us)).unlink(missing_ok=True)


def repair(batch: FileSource, root: Path, source: str, committed_us: int) -> int:
    """Publish the staged batch that was committed, delete any other; returns how many
    staged files were found."""
    if not staging_dir(batch, root).is_dir():
        return 0
    with _locked(batch, root, source) as folder:
        found = sorted(folder.glob(f".stream-{source}-*.parquet.pending"))
        for path in found:
            commit_us = int(path.name.removeprefix(f".stream-{source}-").split(".")[0])
            if commit_us == committed_us:
                _publish(batch, root, source, commit_us)
            else:
                path.unlink()
        for tmp in folder.glob(f".stream-{source}-*.parquet.pending.tmp"):
            tmp.unlink()
    return len(found)


def _delta_has(folder: Path, tag: str) -> bool:
    from deltalake import DeltaTable

    if not (folder / "_delta_log").is_dir():
        return False
    return any(c.get(_META) == tag for c in DeltaTable(str(folder)).history(limit=200))


def _delta_checkpoint(folder: Path, source: str) -> bytes | None:
    from deltalake import DeltaTable

    if not (folder / "_delta_log").is_dir():
        return None
    for commit in DeltaTable(str(folder)).history(limit=200):  # newest first
        if str(commit.get(_META, "")).startswith(f"{source}:"):
            value = commit.get(CHECKPOINT_KEY.decode())
            return None if value is None else str(value).encode()
    return None
