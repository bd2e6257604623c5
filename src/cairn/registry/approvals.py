"""Review decisions on model versions, under the four-eyes rule.

An approval names the reviewer, the review ticket (e.g. a model-risk review ``MRR-2026-0123``)
and the decision. The author of a version can never review it, and every decision is written
to the audit log in the same transaction as the record itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.core.timeutil import utcnow
from cairn.registry._checks import from_db, require_text, same_log
from cairn.registry._tables import approvals, ensure_tables
from cairn.registry.audit import AuditLog, Clock
from cairn.registry.errors import GovernanceError, RegistryInputError

#: A review reference such as ``MRR-2026-0123``: a project key, the year, a number.
DEFAULT_TICKET_PATTERN = r"^[A-Z][A-Z0-9]+-\d{4}-\d{3,}$"
DECISIONS = ("approve", "reject")
Decision = Literal["approve", "reject"]


@dataclass(frozen=True)
class Approval:
    """One review decision on one model version."""

    model: str
    version: str
    reviewer: str
    ticket: str
    decision: Decision
    note: str
    author: str
    at: datetime


class ApprovalStore:
    """Review decisions of one project, each also written to its audit log.

    Parameters
    ----------
    engine:
        The database, e.g. ``MetadataStore(url).engine`` (the same one ``audit`` uses).
    project:
        Whose approvals.
    audit:
        The project's :class:`~cairn.registry.audit.AuditLog`.
    ticket_pattern:
        A regular expression every review ticket must match (default
        :data:`DEFAULT_TICKET_PATTERN`, which accepts ``MRR-2026-0123``).
    now:
        The clock (default: UTC now).

    Example
    -------
    >>> import sqlalchemy
    >>> engine = sqlalchemy.create_engine("sqlite://")
    >>> store = ApprovalStore(engine, "credit", AuditLog(engine, "credit"))
    >>> store.record("credit", "3", reviewer="ana", ticket="MRR-2026-0123",
    ...              decision="approve", author="ana")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cairn.registry.errors.GovernanceError: four eyes: the author of credit v3 (ana) cannot...
    >>> store.record("credit", "3", reviewer="bo", ticket="MRR-2026-0123",
    ...              decision="approve", author="ana").decision
    'approve'
    >>> store.latest("credit", "3").reviewer
    'bo'
    """

    def __init__(
        self,
        engine: Engine,
        project: str,
        audit: AuditLog,
        *,
        ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN,
        now: Clock = utcnow,
    ) -> None:
        same_log(audit, engine, project, "ApprovalStore")
        self.engine = engine
        self.project = project
        self.audit = audit
        try:
            self.ticket_pattern = re.compile(ticket_pattern)
        except re.error as exc:
            raise RegistryInputError(
                f"ApprovalStore ticket_pattern must be a regular expression; "
                f"got {ticket_pattern!r} ({exc})."
            ) from None
        self.now = now
        ensure_tables(engine)

    def record(
        self,
        model: str,
        version: str,
        *,
        reviewer: str,
        ticket: str,
        decision: str,
        note: str = "",
        author: str,
    ) -> Approval:
        """Record a review decision; the reviewer must not be the version's author.

        Raises :class:`~cairn.registry.errors.GovernanceError` for a self-review, an unknown
        decision, or a missing or malformed ticket. Writes the audit entry
        ``approval.recorded`` (actor: the reviewer; subject: ``model/version``).
        """
        model = require_text("model", model, "ApprovalStore.record")
        version = require_text("version", version, "ApprovalStore.record", max_len=64)
        label = f"{model} v{version}" if version.isdigit() else f"{model} {version}"
        reviewer = _person("reviewer", reviewer, label)
        author = _person("author", author, label)
        if decision not in DECISIONS:
            raise GovernanceError(
                f"The decision on {label} must be 'approve' or 'reject'; got {decision!r}."
            )
        if reviewer.strip().casefold() == author.strip().casefold():
            raise GovernanceError(
                f"four eyes: the author of {label} ({author}) cannot {decision} it; "
                f"ask another reviewer."
            )
        if not isinstance(ticket, str) or not self.ticket_pattern.match(ticket):
            raise GovernanceError(
                f"The review of {label} needs a ticket matching {self.ticket_pattern.pattern} "
                f"(e.g. MRR-2026-0123); got {ticket!r}."
            )
        if not isinstance(note, str):
            raise RegistryInputError(f"The note on {label} must be a string; got {note!r}.")
        fields: dict[str, Any] = {
            "model": model,
            "version": version,
            "reviewer": reviewer,
            "ticket": ticket,
            "decision": decision,
            "note": note,
            "author": author,
        }

        def write(conn: Connection, at: datetime) -> dict[str, Any]:
            conn.execute(approvals.insert().values(project=self.project, at=at, **fields))
            return fields

        entry = self.audit.append_with(
            reviewer, "approval.recorded", f"{model}/{version}", write, now=self.now
        )
        return Approval(
            model,
            version,
            reviewer,
            ticket,
            "approve" if decision == "approve" else "reject",
            note,
            author,
            entry.at,
        )

    def latest(self, model: str, version: str) -> Approval | None:
        """The most recently recorded decision on one version, or None."""
        found = self._query(model, version, newest_first=True, limit=1)
        return found[0] if found else None

    def history(self, model: str, version: str | None = None) -> list[Approval]:
        """Every decision on a model (or one version), in the order they were recorded."""
        return self._query(model, version, newest_first=False, limit=None)

    def _query(
        self, model: str, version: str | None, *, newest_first: bool, limit: int | None
    ) -> list[Approval]:
        a = approvals
        query = sa.select(a).where(a.c.project == self.project, a.c.model == model)
        if version is not None:
            query = query.where(a.c.version == str(version))
        query = query.order_by(a.c.id.desc() if newest_first else a.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [
                Approval(
                    r.model,
                    r.version,
                    r.reviewer,
                    r.ticket,
                    r.decision,
                    r.note,
                    r.author,
                    from_db(r.at),
                )
                for r in conn.execute(query)
            ]


def _person(role: str, value: object, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GovernanceError(f"The review of {label} needs a named {role}; got {value!r}.")
    return value
