"""File and push sources: rows in Parquet, CSV or Delta files, or pushed by an application."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cairn.core.errors import DefinitionError
from cairn.features._names import check_name

FileFormat = Literal["parquet", "csv", "delta"]
_FORMATS = ("parquet", "csv", "delta")


@dataclass(frozen=True)
class FileSource:
    """Rows in files: a Parquet file or folder of files, a CSV file, or a Delta table.

    Parameters
    ----------
    path:
        File or folder; a relative path is resolved against the project folder.
    timestamp_field:
        The event time of each row (when the fact happened).
    created_timestamp_column:
        Optional time at which the row became known (ingestion or correction time). Rows are
        invisible before it, which is how late data and corrections stay point-in-time correct.
    name:
        Unique name of the source; defaults to the file name without its suffix.
    file_format:
        ``"parquet"``, ``"csv"`` or ``"delta"``. When omitted it is inferred from the suffix
        (``.csv``, ``.parquet``), or, for a folder, when the data is read: a folder with a
        ``_delta_log`` is a Delta table, any other a folder of Parquet files.
    timezone:
        Zone of naive timestamps in the files (e.g. ``"UTC"``). Without it naive timestamps
        are rejected, since their meaning is ambiguous.

    Example
    -------
    >>> s = FileSource(path="data/transactions.parquet", timestamp_field="event_timestamp")
    >>> s.name, s.file_format
    ('transactions', 'parquet')
    """

    path: str
    timestamp_field: str = "event_timestamp"
    created_timestamp_column: str | None = None
    name: str = ""
    file_format: FileFormat | None = None
    timezone: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, Path)) or not str(self.path):
            raise DefinitionError(
                f"FileSource.path must be a file or folder path; got {self.path!r}."
            )
        path = str(self.path)
        object.__setattr__(self, "path", path)
        name = self.name or _default_name(path)
        object.__setattr__(self, "name", check_name(name, "FileSource.name"))
        check_name(self.timestamp_field, f"FileSource {name!r} timestamp_field")
        if self.created_timestamp_column is not None:
            check_name(
                self.created_timestamp_column, f"FileSource {name!r} created_timestamp_column"
            )
        fmt = self.file_format or _infer_format(path)
        if fmt is not None and fmt not in _FORMATS:
            raise DefinitionError(
                f"FileSource {name!r} file_format must be one of {', '.join(_FORMATS)}; "
                f"got {fmt!r}."
            )
        object.__setattr__(self, "file_format", fmt)

    def resolve(self, root: str | Path) -> Path:
        """The absolute path of the data, relative paths taken from ``root``."""
        p = Path(self.path).expanduser()
        return p if p.is_absolute() else Path(root) / p

    def format_at(self, root: str | Path) -> str:
        """The file format, looking at the data when the definition left it open."""
        if self.file_format is not None:
            return self.file_format
        return "delta" if (self.resolve(root) / "_delta_log").is_dir() else "parquet"

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this source."""
        return {
            "type": "file",
            "name": self.name,
            "path": self.path,
            "timestamp_field": self.timestamp_field,
            "created_timestamp_column": self.created_timestamp_column,
            "file_format": self.file_format,
            "timezone": self.timezone,
            "description": self.description,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> FileSource:
        """Rebuild a source from ``to_spec`` output."""
        return cls(
            path=spec["path"],
            timestamp_field=spec["timestamp_field"],
            created_timestamp_column=spec.get("created_timestamp_column"),
            name=spec["name"],
            file_format=spec.get("file_format"),
            timezone=spec.get("timezone"),
            description=spec.get("description", ""),
        )


def _default_name(path: str) -> str:
    stem = Path(path.rstrip("/")).name
    for suffix in (".parquet", ".csv", ".pq"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem.replace("-", "_").replace(".", "_")


def _infer_format(path: str) -> str | None:
    p = path.lower().rstrip("/")
    if p.endswith(".csv") or p.endswith(".csv.gz"):
        return "csv"
    if p.endswith(".parquet") or p.endswith(".pq"):
        return "parquet"
    return None


@dataclass(frozen=True)
class PushSource:
    """Rows pushed by an application (``store.push``) rather than landed in batch files.

    Each push appends the rows to ``batch_source`` (the offline log: a Delta table or a folder
    of Parquet files) and updates the online store in the same call, so training sets and
    online reads see the same data.

    Parameters
    ----------
    name:
        Unique name of the source.
    batch_source:
        The offline log; its ``created_timestamp_column``, when declared, is filled with the
        push time for rows that do not carry it.

    Example
    -------
    >>> log = FileSource(path="data/pushed_txns", file_format="delta", name="pushed_log",
    ...                  created_timestamp_column="created_timestamp")
    >>> PushSource(name="txn_push", batch_source=log).timestamp_field
    'event_timestamp'
    """

    name: str
    batch_source: FileSource
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name, "PushSource.name")
        if not isinstance(self.batch_source, FileSource):
            raise DefinitionError(
                f"PushSource {self.name!r} batch_source must be a FileSource (a Delta table or a "
                f"Parquet folder); got {self.batch_source!r}."
            )
        if self.batch_source.file_format == "csv":
            raise DefinitionError(
                f"PushSource {self.name!r} batch_source must be a Delta table or a Parquet "
                f"folder (appendable); got the CSV file {self.batch_source.path!r}."
            )

    @property
    def timestamp_field(self) -> str:
        """The event time column (from the batch source)."""
        return self.batch_source.timestamp_field

    @property
    def created_timestamp_column(self) -> str | None:
        """The known-at column (from the batch source)."""
        return self.batch_source.created_timestamp_column

    @property
    def path(self) -> str:
        """Where the offline log lives."""
        return self.batch_source.path

    def resolve(self, root: str | Path) -> Path:
        """The absolute path of the offline log."""
        return self.batch_source.resolve(root)

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this source."""
        return {
            "type": "push",
            "name": self.name,
            "batch_source": self.batch_source.to_spec(),
            "description": self.description,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> PushSource:
        """Rebuild a push source from ``to_spec`` output."""
        return cls(
            name=spec["name"],
            batch_source=FileSource.from_spec(spec["batch_source"]),
            description=spec.get("description", ""),
        )
