"""Compaction of a segment log: the small per-second segments of closed hours merged into one
Parquet file per hour, swapped in so that no reader sees a gap or a duplicate.

A log directory holds plain segments (one per staging file a writer converted), merged files
``compacted-<YYYYmmddTHH>-<generation>.parquet`` and ``manifest.json``: the merged files in use
and the files they replaced (*retired*, with when). Compaction, holding the maintenance lock:

1. writes each merged file under a temporary name, fsyncs it and renames it into place;
2. commits a new manifest generation (written aside, fsynced, renamed): the merged files in,
   their inputs retired;
3. deletes retired files ``grace_s`` after they were retired, then drops them from the manifest.

A reader (:func:`live_segments`) reads the manifest, lists the directory, reads the manifest
again (and starts over if its generation moved): it takes the merged files the manifest names,
and the plain segments it does not retire. Before a commit a reader sees the inputs and not the
merged file; after it, the merged file and not the inputs; inputs are deleted only once retired.
A crash at any point leaves either an unlisted merged file (removed by the next compaction) or
committed state. Only segments named as a writer names them are merged: files put there by hand
(e.g. the quickstart's monitoring demo, which rewrites its own) are left alone.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.durable import fsync_dir
from cairn.serving.log_staging import maintenance_lock, recover_held

logger = logging.getLogger("cairn.serving")

MANIFEST = "manifest.json"
MERGED_PREFIX = "compacted-"
HOUR = 3600
SETTLE_S = 300.0
"""A closed hour is compacted this long after it ends (its last segments are renamed in by
then)."""
GRACE_S = 600.0
"""Retired files stay this long, for readers that listed them before the swap."""
_WRITER_SEGMENT = re.compile(r"^\d+-[0-9a-f]{8}-\d{8}\.parquet$")
_MERGED = re.compile(r"^compacted-(\d{8}T\d{2})-(\d+)\.parquet$")
_ROWS_PER_GROUP = 65_536


@dataclass(frozen=True)
class Manifest:
    """The merged files in use and the files they replaced (name -> when retired, epoch s)."""

    generation: int = 0
    merged: tuple[str, ...] = ()
    retired: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Compaction:
    """What one compaction did: staging files recovered, merged files written, files they
    replaced, retired files deleted."""

    recovered: int = 0
    merged: list[str] = field(default_factory=list)
    replaced: int = 0
    deleted: int = 0
    skipped: bool = False


def read_manifest(directory: Path) -> Manifest:
    """The committed manifest (an empty one when nothing was ever compacted)."""
    try:
        data = orjson.loads((directory / MANIFEST).read_bytes())
    except FileNotFoundError:
        return Manifest()
    return Manifest(int(data["generation"]), tuple(data["merged"]), dict(data["retired"]))


def live_segments(directory: str | Path) -> list[Path]:
    """The Parquet files a reader should read now: each record in exactly one of them.

    Never changes the directory.

    Example
    -------
    >>> import tempfile
    >>> live_segments(tempfile.mkdtemp())
    []
    """
    directory = Path(directory)
    while True:
        before = read_manifest(directory)
        try:
            names = [e.name for e in os.scandir(directory) if e.name.endswith(".parquet")]
        except FileNotFoundError:
            return []
        after = read_manifest(directory)
        if after.generation == before.generation:
            break
    plain = [n for n in names if not n.startswith((".", MERGED_PREFIX)) and n not in after.retired]
    return [directory / n for n in sorted([*after.merged, *plain])]


def compact(
    directory: str | Path,
    schema: pa.Schema,
    *,
    before: float | None = None,
    grace_s: float = GRACE_S,
    wait: bool = True,
) -> Compaction:
    """Recover dead writers' staging files, merge the segments of each closed hour into one
    file, and delete files retired ``grace_s`` ago.

    Parameters
    ----------
    directory, schema:
        The log (e.g. ``.cairn/predictions``) and its Parquet schema.
    before:
        Merge segments written before this time (epoch seconds); default: the hours that ended
        at least :data:`SETTLE_S` ago.
    grace_s:
        How long a replaced file stays for readers that listed it before the swap.
    wait:
        Wait for another process's maintenance to end (False: skip, ``skipped`` is True).

    Example
    -------
    >>> import tempfile
    >>> compact(tempfile.mkdtemp(), pa.schema([("id", pa.string())])).merged
    []
    """
    directory = Path(directory)
    if not directory.is_dir():
        return Compaction()
    with maintenance_lock(directory, wait=wait) as held:
        if not held:
            return Compaction(skipped=True)
        recovered = recover_held(directory, schema)
        now = time.time()
        cutoff = before if before is not None else _hour_floor(now - SETTLE_S)
        manifest = read_manifest(directory)
        _remove_orphans(directory, manifest)
        groups = _hour_groups(directory, manifest, cutoff)
        written: dict[str, list[str]] = {}
        generation = manifest.generation + 1
        for hour, inputs in sorted(groups.items()):
            name = f"{MERGED_PREFIX}{hour}-{generation:08d}.parquet"
            if _merge(directory, inputs, name, schema):
                written[name] = inputs
        if written:
            replaced = {n for inputs in written.values() for n in inputs}
            manifest = Manifest(
                generation,
                tuple(sorted({*manifest.merged, *written} - replaced)),
                {**manifest.retired, **dict.fromkeys(sorted(replaced), now)},
            )
            _commit(directory, manifest)
        deleted = _delete_retired(directory, manifest, now - grace_s)
        return Compaction(recovered, sorted(written), sum(map(len, written.values())), deleted)


def _hour_floor(t: float) -> float:
    return t - t % HOUR


def _hour_of(t: float) -> str:
    return datetime.fromtimestamp(_hour_floor(t), UTC).strftime("%Y%m%dT%H")


def _hour_groups(directory: Path, manifest: Manifest, cutoff: float) -> dict[str, list[str]]:
    """Hour -> the files to merge into it: its merged file, then its plain segments (by write
    time); only hours with plain segments to add."""
    plain: dict[str, list[tuple[float, str]]] = {}
    for entry in os.scandir(directory):
        if _WRITER_SEGMENT.match(entry.name) and entry.name not in manifest.retired:
            mtime = entry.stat().st_mtime
            if mtime < cutoff:
                plain.setdefault(_hour_of(mtime), []).append((mtime, entry.name))
    merged = {m[1]: name for name in manifest.merged if (m := _MERGED.match(name))}
    groups: dict[str, list[str]] = {}
    for hour, segments in plain.items():
        inputs = ([merged[hour]] if hour in merged else []) + [n for _, n in sorted(segments)]
        if len(inputs) > 1:
            groups[hour] = inputs
    return groups


def _merge(directory: Path, inputs: list[str], name: str, schema: pa.Schema) -> bool:
    """Write ``inputs`` (in order) into ``name``: aside, fsynced, renamed. False (with a
    warning) when their schemas cannot be unified."""
    paths = [directory / n for n in inputs]
    try:
        target = pa.unify_schemas([schema, *(pq.read_schema(p) for p in paths)])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        logger.warning("Not compacting %s: segments disagree on a column type (%s)", name, exc)
        return False
    partial = directory / f".{name}.{uuid.uuid4().hex[:8]}.compact.parquet.tmp"
    try:
        with pq.ParquetWriter(partial, target) as writer:
            pending: list[pa.Table] = []
            rows = 0
            for path in paths:
                table = _conform(pq.ParquetFile(path).read(), target)
                pending.append(table)
                rows += table.num_rows
                if rows >= _ROWS_PER_GROUP:
                    writer.write_table(pa.concat_tables(pending))
                    pending, rows = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending))
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, directory / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return True


def _conform(table: pa.Table, target: pa.Schema) -> pa.Table:
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in target
    ]
    return pa.Table.from_arrays(columns, schema=target)


def _commit(directory: Path, manifest: Manifest) -> None:
    data = {
        "generation": manifest.generation,
        "merged": list(manifest.merged),
        "retired": manifest.retired,
    }
    partial = directory / f".{MANIFEST}.tmp"
    with open(partial, "wb") as f:
        f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, directory / MANIFEST)
    fsync_dir(directory)


def _remove_orphans(directory: Path, manifest: Manifest) -> None:
    """Merged files a crashed compaction renamed in but never committed (no reader reads them)."""
    for entry in os.scandir(directory):
        if _MERGED.match(entry.name) and entry.name not in manifest.merged:
            Path(entry.path).unlink(missing_ok=True)


def _delete_retired(directory: Path, manifest: Manifest, older_than: float) -> int:
    """Delete files retired before ``older_than``, then drop them from the manifest."""
    due = [n for n, at in manifest.retired.items() if at <= older_than]
    if not due:
        return 0
    for name in due:
        (directory / name).unlink(missing_ok=True)
    fsync_dir(directory)
    kept = {n: at for n, at in manifest.retired.items() if n not in due}
    _commit(directory, Manifest(manifest.generation + 1, manifest.merged, kept))
    return len(due)
