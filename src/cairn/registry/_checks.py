"""Argument checks shared by the registry's stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.engine import Engine

from cairn.registry.errors import RegistryInputError


class LogPlace(Protocol):
    """Where an audit log lives: its database and project (an ``AuditLog`` has both)."""

    @property
    def engine(self) -> Engine:
        """The log's database."""
        ...

    @property
    def project(self) -> str:
        """Whose log."""
        ...


def require_text(name: str, value: object, owner: str, *, max_len: int = 256) -> str:
    """``value`` as a non-empty string of at most ``max_len`` characters (an int version is
    accepted as its decimal text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len or "\x00" in value:
        raise RegistryInputError(
            f"{owner} needs {name} as a non-empty string of at most {max_len} characters "
            f"(no NUL); got {value!r}."
        )
    return value


def same_log(audit: LogPlace, engine: Engine, project: str, owner: str) -> None:
    """Records and their audit entries commit in one transaction, so both must live in the
    same database and project."""
    if audit.project != project:
        raise RegistryInputError(
            f"{owner} for project {project!r} needs that project's AuditLog; "
            f"got the log of {audit.project!r}."
        )
    same = audit.engine is engine or (
        audit.engine.url == engine.url and engine.url.database not in (None, "", ":memory:")
    )
    if not same:
        raise RegistryInputError(
            f"{owner} needs an AuditLog on the same database (records and audit entries commit "
            f"together); got {audit.engine.url!r} for {engine.url!r}."
        )


def aware(when: datetime, name: str) -> datetime:
    """A timezone-aware time in UTC, or a clear error for a naive one."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise RegistryInputError(
            f"{name} must be timezone-aware (e.g. 2026-03-01T00:00:00+00:00); "
            f"got the naive {when.isoformat()!r}."
        )
    return when.astimezone(UTC)


def from_db(when: datetime) -> datetime:
    """A stored time back in UTC (SQLite returns it naive; we only ever store UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
