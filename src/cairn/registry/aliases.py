"""Where each alias of a model pointed, and when.

MLflow keeps only an alias's current version. Cairn records every move (who, why, from which
version to which), so "which version was champion on 2026-03-01" has an answer. Each move is
written to the audit log in the same transaction as the record itself.

Allowed aliases: ``champion``, ``fallback``, ``challenger`` and ``challenger-<name>``
(lowercase letters and digits, words joined by ``-`` or ``_``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.core.timeutil import utcnow
from cairn.registry._checks import aware, from_db, require_text, same_log
from cairn.registry._tables import alias_moves, ensure_tables
from cairn.registry.audit import AuditLog, Clock
from cairn.registry.errors import GovernanceError, RegistryInputError

ALIASES = ("champion", "fallback", "challenger")
_ALIAS = re.compile(r"^(?:champion|fallback|challenger(?:-[a-z0-9]+(?:[-_][a-z0-9]+)*)?)$")
_MAX_ALIAS = 64


def validate_alias(alias: str) -> str:
    """Return ``alias`` if it is an allowed alias name, else raise ``RegistryInputError``.

    Example
    -------
    >>> validate_alias("challenger-lgbm_v2")
    'challenger-lgbm_v2'
    >>> validate_alias("Champion")
    Traceback (most recent call last):
    ...
    cairn.registry.errors.RegistryInputError: Alias 'Champion' is not allowed: use champion, fallback, challenger or challenger-<name> (<name>: lowercase letters and digits, words joined by '-' or '_'; at most 64 characters in all).
    """  # noqa: E501
    if not isinstance(alias, str) or len(alias) > _MAX_ALIAS or not _ALIAS.match(alias):
        raise RegistryInputError(
            f"Alias {alias!r} is not allowed: use champion, fallback, challenger or "
            f"challenger-<name> (<name>: lowercase letters and digits, words joined by '-' or "
            f"'_'; at most {_MAX_ALIAS} characters in all)."
        )
    return alias


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: to ``version`` (None: the alias was removed) from ``previous``."""

    model: str
    alias: str
    version: str | None
    previous: str | None
    actor: str
    reason: str
    at: datetime


class AliasHistory:
    """Every alias move of one project's models, each also written to its audit log.

    Parameters
    ----------
    engine:
        The database, e.g. ``MetadataStore(url).engine`` (the same one ``audit`` uses).
    project:
        Whose models.
    audit:
        The project's :class:`~cairn.registry.audit.AuditLog`.
    now:
        The clock (default: UTC now).

    Example
    -------
    >>> import sqlalchemy
    >>> from datetime import UTC, datetime
    >>> engine = sqlalchemy.create_engine("sqlite://")
    >>> times = iter([datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)])
    >>> aliases = AliasHistory(engine, "credit", AuditLog(engine, "credit"),
    ...                        now=lambda: next(times))
    >>> _ = aliases.record("credit", "champion", "3", actor="bo", reason="MRR-2026-0123")
    >>> aliases.record("credit", "champion", "4", actor="bo", reason="MRR-2026-0150").previous
    '3'
    >>> aliases.at("credit", "champion", datetime(2026, 3, 1, tzinfo=UTC))
    '3'
    >>> aliases.current("credit", "champion")
    '4'
    """

    def __init__(
        self, engine: Engine, project: str, audit: AuditLog, *, now: Clock = utcnow
    ) -> None:
        same_log(audit, engine, project, "AliasHistory")
        self.engine = engine
        self.project = project
        self.audit = audit
        self.now = now
        ensure_tables(engine)

    def record(
        self, model: str, alias: str, version: str | None, *, actor: str, reason: str
    ) -> AliasMove:
        """Record that ``alias`` of ``model`` now points at ``version`` (None: removed).

        Writes the audit entry ``alias.moved`` (subject ``model@alias``) in the same
        transaction; ``previous`` is read under the audit log's lock, so concurrent moves of
        one alias each see the one before.
        """
        owner = "AliasHistory.record"
        model = require_text("model", model, owner)
        alias = validate_alias(alias)
        if version is not None:
            version = require_text("version", version, owner, max_len=64)
        if not isinstance(actor, str) or not actor.strip():
            raise GovernanceError(f"Moving {model}@{alias} needs a named actor; got {actor!r}.")
        if not isinstance(reason, str) or not reason.strip():
            raise GovernanceError(
                f"Moving {model}@{alias} needs a reason (e.g. the review ticket); got {reason!r}."
            )
        moved: dict[str, Any] = {}

        def write(conn: Connection, at: datetime) -> dict[str, Any]:
            previous = self._latest(conn, model, alias, None)
            conn.execute(
                alias_moves.insert().values(
                    project=self.project,
                    model=model,
                    alias=alias,
                    version=version,
                    previous=previous,
                    actor=actor,
                    reason=reason,
                    at=at,
                )
            )
            moved.update(
                model=model, alias=alias, version=version, previous=previous, reason=reason
            )
            return moved

        entry = self.audit.append_with(
            actor, "alias.moved", f"{model}@{alias}", write, now=self.now
        )
        return AliasMove(model, alias, version, moved["previous"], actor, reason, entry.at)

    def current(self, model: str, alias: str) -> str | None:
        """The version ``alias`` points at now (None: never set, or removed)."""
        with self.engine.connect() as conn:
            return self._latest(conn, model, validate_alias(alias), None)

    def at(self, model: str, alias: str, when: datetime) -> str | None:
        """The version ``alias`` pointed at, at time ``when`` (timezone-aware).

        The answer is the last move recorded at or before ``when``; None if the alias was not
        set then.
        """
        when = aware(when, "AliasHistory.at(when=...)")
        with self.engine.connect() as conn:
            return self._latest(conn, model, validate_alias(alias), when)

    def history(self, model: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of a model's aliases (or of one alias), in the order they were recorded."""
        m = alias_moves
        query = sa.select(m).where(m.c.project == self.project, m.c.model == model)
        if alias is not None:
            query = query.where(m.c.alias == validate_alias(alias))
        with self.engine.connect() as conn:
            return [
                AliasMove(r.model, r.alias, r.version, r.previous, r.actor, r.reason, from_db(r.at))
                for r in conn.execute(query.order_by(m.c.id))
            ]

    def _latest(
        self, conn: Connection, model: str, alias: str, when: datetime | None
    ) -> str | None:
        # Recording order (id), not time, decides the latest move: moves are serialised by
        # the audit lock, and a clock that steps back must not resurrect an older version.
        m = alias_moves
        query = sa.select(m.c.version).where(
            m.c.project == self.project, m.c.model == model, m.c.alias == alias
        )
        if when is not None:
            query = query.where(m.c.at <= when)
        version: str | None = conn.execute(query.order_by(m.c.id.desc()).limit(1)).scalar()
        return version
