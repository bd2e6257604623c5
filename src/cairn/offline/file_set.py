"""What a source holds, file by file: the evidence that new rows became readable.

A row's created time says when it was known, not when it was written: an extract stamped
before a materialization run may land in the source after it. Incremental materialization
therefore also asks which files are new or rewritten since its last run (same name, other
size or modification time) and takes their rows whatever their created time.

A file set maps each file, relative to the source's path, to ``(size in bytes, modification
time in ns)``; a Delta table maps the data files of its current version (from its log).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from cairn.core.errors import SourceError
from cairn.features.source import Source, batch_of
from cairn.offline.sources import parquet_files

FileSet = dict[str, tuple[int, int]]


def file_set(source: Source, root: Path) -> FileSet:
    """The files of ``source`` (a push source: its offline log) with size and mtime.

    Take it *before* reading the data: a file changed in between then looks changed at the
    next run too, and is read again (idempotently) rather than missed.

    Example
    -------
    >>> import tempfile
    >>> from cairn.features import FileSource
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.parquet").write_bytes(b"1234")
    >>> src = FileSource(name="s", path=str(folder), timestamp_field="ts")
    >>> {name: size for name, (size, _) in file_set(src, folder).items()}
    {'a.parquet': 4}
    """
    batch = batch_of(source)
    path = batch.resolve(root)
    if not path.exists():
        raise SourceError(
            f"Source {batch.name!r}: data not found at {path} "
            f"(path {batch.path!r}, resolved against {root})."
        )
    if batch.format_at(root) == "delta":
        import pyarrow as pa
        from deltalake import DeltaTable

        actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
        return {
            str(row["path"]): (int(row["size_bytes"]), _as_int(row["modification_time"]))
            for row in actions.select(["path", "size_bytes", "modification_time"]).to_pylist()
        }
    files = parquet_files(path) if batch.format_at(root) == "parquet" else [path]
    out: FileSet = {}
    for f in files:
        st = f.stat()
        out[str(f.relative_to(path)) if path.is_dir() else f.name] = (st.st_size, st.st_mtime_ns)
    return out


def changed_files(
    before: Mapping[str, tuple[int, int]], now: Mapping[str, tuple[int, int]]
) -> list[str]:
    """Files of ``now`` that ``before`` did not hold with the same size and mtime, sorted.

    Example
    -------
    >>> changed_files({"a": (1, 5), "b": (2, 5)}, {"a": (1, 5), "b": (3, 6), "c": (1, 1)})
    ['b', 'c']
    """
    return sorted(name for name, state in now.items() if before.get(name) != state)


def dumps(files: Mapping[str, tuple[int, int]]) -> str:
    """A file set as compact JSON (stored with a run's watermark)."""
    return json.dumps({k: list(v) for k, v in sorted(files.items())}, separators=(",", ":"))


def loads(text: str) -> FileSet:
    """The file set of :func:`dumps`.

    Example
    -------
    >>> loads(dumps({"x.parquet": (10, 20)}))
    {'x.parquet': (10, 20)}
    """
    return {str(k): (int(v[0]), int(v[1])) for k, v in json.loads(text).items()}


def _as_int(value: object) -> int:
    if hasattr(value, "timestamp"):  # a datetime from some deltalake versions
        return int(value.timestamp() * 1_000_000)
    return int(str(value))
