"""The metadata store: versioned definitions (and, later, results and audit records) in any
SQLAlchemy database: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.core.errors import ConfigError
from cairn.core.urls import redact_url
from cairn.metadata.connect import connect_args
from cairn.metadata.retry import with_retries
from cairn.metadata.schema import upgrade

_meta = sa.MetaData()
definitions = sa.Table(
    "cairn_definitions",
    _meta,
    sa.Column("project", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition_hash", sa.String(64), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("applied_by", sa.String(128), nullable=False),
)

materializations = sa.Table(
    "cairn_materializations",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(128), nullable=False, index=True),
    sa.Column("view", sa.String(256), nullable=False),
    sa.Column("store", sa.String(512), nullable=False),
    sa.Column("definition_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("start_us", sa.BigInteger, nullable=True),
    sa.Column("end_us", sa.BigInteger, nullable=False),
    sa.Column("max_event_us", sa.BigInteger, nullable=True),
    sa.Column("rows_written", sa.BigInteger, nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source_files", sa.Text, nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
)


@dataclass(frozen=True)
class MaterializationRecord:
    """One finished materialization run of a view."""

    view: str
    store: str
    definition_hash: str
    kind: str
    start_us: int | None
    end_us: int
    max_event_us: int | None
    rows_written: int
    finished_at: datetime
    source_files: str | None = None
    """JSON of the source's file set the run read (incremental runs; see
    :func:`cairn.offline.sources.file_set`), stored with the watermark in one row."""
    seconds: float | None = None
    """How long the run took (None: recorded before schema 0007)."""
    after_us: int | None = None
    """The watermark an incremental run started from, as :meth:`MetadataStore.materializations`
    reads it back (None when writing, for range runs and for a view's first run)."""


@dataclass(frozen=True)
class MaterializationState:
    """Where a view's materialization into one online store stands (µs since the epoch)."""

    watermark: int | None
    max_event_us: int | None
    last_run: datetime | None
    last_range: tuple[int | None, int] | None = None
    """``[start, end)`` of the newest explicit range run (``cairn materialize START END``)."""
    last_range_rows: int | None = None
    """Rows that range run wrote."""
    last_range_at: datetime | None = None
    """When that range run finished."""
    source_files: str | None = None
    """The file set (JSON) the newest incremental run read; None when no incremental run
    recorded one (runs before schema 0005)."""


@dataclass(frozen=True)
class DefinitionRecord:
    """One stored version of a definition."""

    kind: str
    name: str
    version: int
    definition_hash: str
    spec: dict[str, Any]
    applied_at: datetime
    applied_by: str


@dataclass(frozen=True)
class DefinitionChange:
    """What ``apply`` did with one object: ``created``, ``updated`` or ``unchanged``."""

    kind: str
    name: str
    version: int
    status: str


@dataclass(frozen=True)
class NewDefinition:
    """A definition to record."""

    kind: str
    name: str
    definition_hash: str
    spec: dict[str, Any]


def resolve_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute against the project folder and create its folder."""
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return url
    path = Path(url[len("sqlite:///") :])
    if not path.is_absolute():
        path = root / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class MetadataStore:
    """Versioned definitions per project.

    Parameters
    ----------
    url:
        A SQLAlchemy URL (``sqlite:///.cairn/metadata.db``,
        ``postgresql+psycopg://user@host/db``); relative SQLite paths resolve against ``root``.

    Example
    -------
    >>> store = MetadataStore("sqlite://")
    >>> store.apply("p", [NewDefinition("entity", "customer", "h1", {"name": "customer"})], "ana")
    [DefinitionChange(kind='entity', name='customer', version=1, status='created')]
    >>> store.apply("p", [NewDefinition("entity", "customer", "h1", {"name": "customer"})], "ana")
    [DefinitionChange(kind='entity', name='customer', version=1, status='unchanged')]
    """

    def __init__(self, url: str, *, root: Path | None = None) -> None:
        self.url = resolve_url(url, root or Path.cwd())
        try:
            # pre-ping: a pooled connection a database restart or failover cut is replaced
            # before use, so the first query after it does not fail (SQLite has no server)
            self.engine: Engine = sa.create_engine(
                self.url,
                future=True,
                connect_args=connect_args(self.url),
                pool_pre_ping=not self.url.startswith("sqlite"),
            )
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise ConfigError(
                f"metadata.url must be a SQLAlchemy URL such as 'sqlite:///.cairn/metadata.db' "
                f"or 'postgresql+psycopg://user@host/db' (install cairn[postgres]); "
                f"got {redact_url(url)!r} ({exc})."
            ) from None
        if self.url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            upgrade(self.engine)
        except sa.exc.OperationalError as exc:
            raise ConfigError(
                f"Cannot open the metadata store at {redact_url(self.url)}: {exc.orig}"
            ) from None

    def apply(
        self, project: str, objects: Iterable[NewDefinition], applied_by: str
    ) -> list[DefinitionChange]:
        """Record each object: a new version when its hash changed, nothing when it did not."""
        changes: list[DefinitionChange] = []
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            for obj in objects:
                latest = conn.execute(
                    sa.select(definitions.c.version, definitions.c.definition_hash)
                    .where(
                        definitions.c.project == project,
                        definitions.c.kind == obj.kind,
                        definitions.c.name == obj.name,
                    )
                    .order_by(definitions.c.version.desc())
                    .limit(1)
                ).first()
                if latest is not None and latest.definition_hash == obj.definition_hash:
                    changes.append(
                        DefinitionChange(obj.kind, obj.name, latest.version, "unchanged")
                    )
                    continue
                version = 1 if latest is None else latest.version + 1
                conn.execute(
                    definitions.insert().values(
                        project=project,
                        kind=obj.kind,
                        name=obj.name,
                        version=version,
                        definition_hash=obj.definition_hash,
                        spec=json.dumps(obj.spec, sort_keys=True),
                        applied_at=now,
                        applied_by=applied_by,
                    )
                )
                changes.append(
                    DefinitionChange(
                        obj.kind, obj.name, version, "created" if version == 1 else "updated"
                    )
                )
        return changes

    def latest(self, project: str, kind: str | None = None) -> list[DefinitionRecord]:
        """The newest version of every definition (of one kind), ordered by kind and name."""
        d = definitions
        newest = (
            sa.select(d.c.kind, d.c.name, sa.func.max(d.c.version).label("version"))
            .where(d.c.project == project)
            .group_by(d.c.kind, d.c.name)
            .subquery()
        )
        query = (
            sa.select(d)
            .join(
                newest,
                sa.and_(
                    d.c.kind == newest.c.kind,
                    d.c.name == newest.c.name,
                    d.c.version == newest.c.version,
                ),
            )
            .where(d.c.project == project)
            .order_by(d.c.kind, d.c.name)
        )
        if kind is not None:
            query = query.where(d.c.kind == kind)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def history(self, project: str, kind: str, name: str) -> Sequence[DefinitionRecord]:
        """Every version of one definition, oldest first."""
        d = definitions
        query = (
            sa.select(d)
            .where(d.c.project == project, d.c.kind == kind, d.c.name == name)
            .order_by(d.c.version)
        )
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def record_materialization(self, project: str, run: MaterializationRecord) -> None:
        """Record a finished run (only incremental runs move the watermark: an explicit range
        may leave a gap before its start)."""
        with self.engine.begin() as conn:
            conn.execute(
                materializations.insert().values(
                    project=project,
                    view=run.view,
                    store=run.store,
                    definition_hash=run.definition_hash,
                    kind=run.kind,
                    start_us=run.start_us,
                    end_us=run.end_us,
                    max_event_us=run.max_event_us,
                    rows_written=run.rows_written,
                    finished_at=run.finished_at,
                    source_files=run.source_files,
                    seconds=run.seconds,
                )
            )

    def materializations(
        self,
        project: str,
        *,
        view: str | None = None,
        store_url: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[MaterializationRecord]:
        """Recorded materialization runs of ``project`` (of one view, into one online store:
        None for any), newest first, ``limit`` of them after the ``offset`` newest. Each
        incremental run comes with ``after_us``: the watermark it started from (the greatest end
        of the earlier incremental runs of its view, definition and store; None for the
        first)."""
        m = materializations
        earlier = sa.func.max(sa.case((m.c.kind == "incremental", m.c.end_us))).over(
            partition_by=(m.c.view, m.c.store, m.c.definition_hash),
            order_by=m.c.id,
            rows=(None, -1),
        )
        inner = sa.select(m, earlier.label("after_us")).where(
            *self._runs_of(project, view, store_url)
        )
        runs = inner.subquery()
        query = sa.select(runs).order_by(runs.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [
                MaterializationRecord(
                    row.view,
                    row.store,
                    row.definition_hash,
                    row.kind,
                    row.start_us,
                    row.end_us,
                    row.max_event_us,
                    row.rows_written,
                    row.finished_at
                    if row.finished_at.tzinfo is not None
                    else row.finished_at.replace(tzinfo=UTC),
                    row.source_files,
                    row.seconds,
                    row.after_us if row.kind == "incremental" else None,
                )
                for row in conn.execute(query)
            ]

    def materialization_count(
        self, project: str, *, view: str | None = None, store_url: str | None = None
    ) -> int:
        """How many runs :meth:`materializations` lists without a limit."""
        m = materializations
        query = sa.select(sa.func.count()).select_from(m)
        with self.engine.connect() as conn:
            return int(
                conn.execute(query.where(*self._runs_of(project, view, store_url))).scalar_one()
            )

    @staticmethod
    def _runs_of(project: str, view: str | None, store_url: str | None) -> list[Any]:
        m = materializations
        where: list[Any] = [m.c.project == project]
        if view is not None:
            where.append(m.c.view == view)
        if store_url is not None:
            where.append(m.c.store == store_url)
        return where

    def materialization_state(
        self, project: str, store_url: str, hashes: dict[str, str]
    ) -> dict[str, MaterializationState]:
        """Per view (at its current definition hash, into one online store): the watermark
        (greatest end of an incremental run), the greatest event time written, the last run,
        and the newest explicit range run (which never moves the watermark)."""
        m = materializations
        query = sa.select(m).where(m.c.project == project, m.c.store == store_url).order_by(m.c.id)
        out: dict[str, MaterializationState] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                if hashes.get(row.view) != row.definition_hash:
                    continue  # a run of an older definition: its data does not count
                prev = out.get(row.view, MaterializationState(None, None, None))
                finished = row.finished_at
                if finished.tzinfo is None:
                    finished = finished.replace(tzinfo=UTC)
                watermark, files = prev.watermark, prev.source_files
                if row.kind == "incremental":  # rows come in id order: the newest run wins
                    watermark = max(watermark or row.end_us, row.end_us)
                    files = row.source_files
                events = [x for x in (prev.max_event_us, row.max_event_us) if x is not None]
                last_range = prev.last_range, prev.last_range_rows, prev.last_range_at
                if row.kind != "incremental" and (
                    prev.last_range_at is None or finished >= prev.last_range_at
                ):
                    last_range = (row.start_us, row.end_us), row.rows_written, finished
                out[row.view] = MaterializationState(
                    watermark,
                    max(events) if events else None,
                    max(prev.last_run or finished, finished),
                    *last_range,
                    files,
                )
        return out

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def _record(row: Any) -> DefinitionRecord:
    applied_at = row.applied_at
    if applied_at.tzinfo is None:  # SQLite drops the zone; we only ever store UTC
        applied_at = applied_at.replace(tzinfo=UTC)
    return DefinitionRecord(
        row.kind,
        row.name,
        row.version,
        row.definition_hash,
        json.loads(row.spec),
        applied_at,
        row.applied_by,
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    # Switching a new database to WAL needs its exclusive lock, and SQLite answers "locked" at
    # once, without waiting, while another process holds a write lock on it (a deadlock risk).
    with_retries(
        lambda: cur.execute("PRAGMA journal_mode=WAL"),
        what="switch the metadata database to WAL",
        attempts=200,
    )
    cur.close()
