"""Where each alias of a model pointed, and when.

MLflow keeps only an alias's current version. Cairn records every move (who, why, from which
version to which), so "which version was champion on 2026-03-01" has an answer. Each move is an
``alias.moved`` entry of the audit chain, written in the same transaction as its row in
``cairn_alias_moves``; the history is *read* from the chain (the table is an index for
display, checked against the chain by :func:`cairn.registry.reconcile.reconcile`).

Allowed aliases: ``champion``, ``fallback``, ``challenger`` and ``challenger-<name>``
(lowercase letters and digits, words joined by ``-`` or ``_``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.auth.principal import Principal
from cairn.core.timeutil import utcnow
from cairn.registry._chain import parse_at
from cairn.registry._checks import aware, require_text, same_log
from cairn.registry._tables import MOVED_ACTION as MOVED_ACTION  # also importable from here
from cairn.registry._tables import alias_moves, audit_log, ensure_tables
from cairn.registry.audit import AuditEntry, AuditLog, Clock
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
    """One move of an alias: to ``version`` (None: the alias was removed) from ``previous``;
    ``audit_seq`` is its ``alias.moved`` entry."""

    model: str
    alias: str
    version: str | None
    previous: str | None
    actor: str
    reason: str
    at: datetime
    audit_seq: int | None = None

    @classmethod
    def from_entry(cls, entry: AuditEntry) -> AliasMove:
        """The move an ``alias.moved`` entry holds."""
        d = entry.details
        model, _, alias = entry.subject.rpartition("@")
        return cls(
            str(d.get("model", model)),
            str(d.get("alias", alias)),
            _opt(d.get("version")),
            _opt(d.get("previous")),
            entry.actor,
            str(d.get("reason", "")),
            entry.at,
            entry.seq,
        )


class AliasHistory:
    """Every alias move of one project's models: written to its audit chain (and the
    ``cairn_alias_moves`` index) and read back from the chain.

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
    >>> from cairn.auth import Principal
    >>> engine = sqlalchemy.create_engine("sqlite://")
    >>> times = iter([datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)])
    >>> aliases = AliasHistory(engine, "credit", AuditLog(engine, "credit"),
    ...                        now=lambda: next(times))
    >>> bo = Principal("bo", "deployer", via="token:tk_9")
    >>> _ = aliases.record("credit", "champion", "3", principal=bo, reason="MRR-2026-0123")
    >>> aliases.record("credit", "champion", "4", principal=bo, reason="MRR-2026-0150").previous
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
        self, model: str, alias: str, version: str | None, *, principal: Principal, reason: str
    ) -> AliasMove:
        """Record that ``alias`` of ``model`` now points at ``version`` (None: removed), moved
        by ``principal`` (deployer role or above).

        Writes the audit entry ``alias.moved`` (subject ``model@alias``) in the same
        transaction; ``previous`` is read from the chain under the audit log's lock, so
        concurrent moves of one alias each see the one before.
        """
        owner = "AliasHistory.record"
        model = require_text("model", model, owner)
        alias = validate_alias(alias)
        if version is not None:
            version = require_text("version", version, owner, max_len=64)
        principal.require("deployer", f"move {model}@{alias}")
        actor = principal.name
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
                model=model,
                alias=alias,
                version=version,
                previous=previous,
                reason=reason,
                principal=principal.to_dict(),
            )
            return moved

        entry = self.audit.append_with(actor, MOVED_ACTION, f"{model}@{alias}", write, now=self.now)
        return AliasMove.from_entry(entry)

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
        """Every move of a model's aliases (or of one alias), in the order the chain holds
        them."""
        if alias is not None:
            entries = self.audit.entries(
                subject=f"{model}@{validate_alias(alias)}", action=MOVED_ACTION
            )
        else:
            entries = [
                e
                for e in self.audit.entries(action=MOVED_ACTION)
                if e.details.get("model", e.subject.rpartition("@")[0]) == model
            ]
        return [AliasMove.from_entry(e) for e in entries]

    def _latest(
        self, conn: Connection, model: str, alias: str, when: datetime | None
    ) -> str | None:
        # Chain order (seq), not time, decides the latest move: moves are serialised by the
        # audit lock, and a clock that steps back must not resurrect an older version.
        log = audit_log
        query = (
            sa.select(log.c.at, log.c.details)
            .where(
                log.c.project == self.project,
                log.c.subject == f"{model}@{alias}",
                log.c.action == MOVED_ACTION,
            )
            .order_by(log.c.seq.desc())
        )
        for row in conn.execute(query):
            if when is not None and parse_at(row.at) > when:
                continue
            details = json.loads(row.details)
            return _opt(details.get("version") if isinstance(details, dict) else None)
        return None


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
