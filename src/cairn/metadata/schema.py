"""The schema of the metadata database: one Alembic migration history, brought to its head
when a store opens the database.

Every ``cairn_*`` table (the metadata store's, the quality store's, the monitoring
history's, the registry's, the rollout store's, the retraining ledger) is created and changed
by the revisions in :mod:`cairn.metadata.migrations`; the database records its revision in
``cairn_alembic_version`` (not ``alembic_version``, so MLflow's history can share a PostgreSQL
database with ours). :func:`upgrade`:

* is cheap when the database is at :data:`HEAD`: one ``SELECT`` of the version, then nothing
  more for the same engine in this process (Alembic is not even imported);
* is safe when several processes open a new database at once: the migration runs under a
  write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``pg_advisory_xact_lock``), and the
  version is read again once the lock is held, so the first process migrates and the others
  find the work done;
* adopts a database made before the schema had a history (``cairn_*`` tables, no version
  table): revision 0001 creates only the tables missing there and stamps it, the later
  revisions run as usual, and every row stays;
* refuses a database at a revision this release does not know (written by a newer cairn)
  with one :class:`~cairn.core.errors.ConfigError` line.
"""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.core.errors import ConfigError
from cairn.core.urls import redact_url
from cairn.metadata.retry import with_retries

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

__all__ = ["HEAD", "TABLES", "VERSION_TABLE", "revision", "upgrade"]

#: The newest revision of :mod:`cairn.metadata.migrations` (a test checks it is Alembic's head).
HEAD = "0007"
#: Where the database records its revision.
VERSION_TABLE = "cairn_alembic_version"
MIGRATIONS = Path(__file__).with_name("migrations")
#: PostgreSQL advisory lock held while the schema changes ("cairn" in ASCII).
LOCK_KEY = 0x636169726E
#: Every table of the history at :data:`HEAD` (a test checks it against the migrated database).
TABLES = (
    "cairn_definitions", "cairn_materializations",
    "cairn_quality_runs", "cairn_quality_checks",
    "cairn_monitor_runs", "cairn_monitor_results", "cairn_monitor_signals",
    "cairn_monitor_changes",
    "cairn_audit_log", "cairn_audit_head", "cairn_approvals", "cairn_alias_moves",
    "cairn_rollouts",
    "cairn_api_tokens",
    "cairn_retraining_ledger",
)  # fmt: skip

logger = logging.getLogger(__name__)
_at_head: weakref.WeakSet[Engine] = weakref.WeakSet()
_lock = threading.Lock()


def upgrade(engine: Engine) -> None:
    """Bring the database of ``engine`` to :data:`HEAD` (idempotent; cheap when it is there).

    Parameters
    ----------
    engine:
        The metadata database (SQLite or PostgreSQL).

    Raises
    ------
    ConfigError
        When the database is at a revision this release does not know.

    Example
    -------
    >>> engine = sa.create_engine("sqlite://")
    >>> upgrade(engine)
    >>> revision(engine) == HEAD, sa.inspect(engine).has_table("cairn_audit_log")
    (True, True)
    >>> upgrade(engine)  # at head: nothing to do
    """
    if engine in _at_head:
        return
    with _lock:
        if engine in _at_head:
            return
        if revision(engine) != HEAD:
            where = redact_url(engine.url.render_as_string(hide_password=False))
            with_retries(
                lambda: _migrate(engine, where),
                what=f"upgrade the schema of the metadata database at {where}",
                attempts=10,
            )
        _at_head.add(engine)


def revision(engine: Engine) -> str | None:
    """The revision the database of ``engine`` is at; None before its first migration.

    Example
    -------
    >>> revision(sa.create_engine("sqlite://")) is None
    True
    """
    with engine.connect() as conn:
        try:
            found = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            return None  # no version table yet (or busy: the locked path reads it again)
    return str(found[0][0]) if len(found) == 1 else None


def _migrate(engine: Engine, where: str) -> None:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    script = _script()
    with engine.connect() as conn:
        dialect = engine.dialect.name
        if dialect == "sqlite":  # the driver must not BEGIN by itself: we BEGIN IMMEDIATE
            conn.execution_options(isolation_level="AUTOCOMMIT")
        elif dialect == "postgresql":  # each statement sees what the lock holder committed
            conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            _lock_schema(conn, dialect)
            context = MigrationContext.configure(
                conn,
                opts={
                    "version_table": VERSION_TABLE,
                    "fn": lambda rev, _context: script._upgrade_revs("head", rev),
                },
            )
            current = context.get_current_revision()
            if current == HEAD:
                return  # another process migrated while this one waited for the lock
            if current is not None and current not in _known(script):
                raise ConfigError(
                    f"The metadata database at {where} is at schema revision {current!r}, "
                    f"which this release of cairn does not know (its newest is {HEAD!r}); "
                    f"a newer cairn upgraded it: upgrade cairn to open it."
                )
            if current is None and set(TABLES) & set(sa.inspect(conn).get_table_names()):
                logger.info("stamping the metadata database at %s with revision 0001", where)
            with Operations.context(context):
                context.run_migrations()
            logger.info("metadata database at %s: schema %s -> %s", where, current, HEAD)


def _lock_schema(conn: Connection, dialect: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy timeout) for other writers
    elif dialect == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def _known(script: ScriptDirectory) -> set[str]:
    return {s.revision for s in script.walk_revisions()}
