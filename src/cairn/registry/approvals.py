"""Review decisions on model versions, under the four-eyes rule.

An approval is made by an authenticated :class:`~cairn.auth.Principal` with the ``approver``
role; it names the review ticket (e.g. a model-risk review ``MRR-2026-0123``) and the
decision. The author of a version can never review it. Every decision is an
``approval.recorded`` entry of the audit chain, written in the same transaction as its row in
``cairn_approvals``; decisions are *read* from the chain (the table is an index for display,
checked against the chain by :func:`cairn.registry.reconcile.reconcile`), so a row inserted
by SQL never counts as an approval. Refused attempts are ``governance.refused`` entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Connection, Engine

from cairn.auth.principal import Principal
from cairn.core.timeutil import utcnow
from cairn.registry._checks import require_text, same_log
from cairn.registry._tables import APPROVAL_ACTION as APPROVAL_ACTION  # also importable from here
from cairn.registry._tables import approvals, ensure_tables
from cairn.registry.audit import AuditEntry, AuditLog, Clock
from cairn.registry.errors import GovernanceError, RegistryInputError
from cairn.registry.refusals import audited_refusal

#: A review reference such as ``MRR-2026-0123``: a project key, the year, a number.
DEFAULT_TICKET_PATTERN = r"^[A-Z][A-Z0-9]+-\d{4}-\d{3,}$"
DECISIONS = ("approve", "reject")
Decision = Literal["approve", "reject"]


@dataclass(frozen=True)
class Approval:
    """One review decision on one model version, as the audit chain holds it.

    ``audit_seq`` is its ``approval.recorded`` entry; ``via`` how the reviewer was
    authenticated (``token:<id>``, ``jwt:<issuer>``; None for entries older than principals).
    """

    model: str
    version: str
    reviewer: str
    ticket: str
    decision: Decision
    note: str
    author: str
    at: datetime
    audit_seq: int | None = None
    via: str | None = None

    @classmethod
    def from_entry(cls, entry: AuditEntry) -> Approval:
        """The decision an ``approval.recorded`` entry holds."""
        d = entry.details
        principal = d.get("principal") if isinstance(d.get("principal"), dict) else None
        return cls(
            str(d.get("model", entry.subject.rpartition("/")[0])),
            str(d.get("version", entry.subject.rpartition("/")[2])),
            entry.actor,
            str(d.get("ticket", "")),
            "approve" if d.get("decision") == "approve" else "reject",
            str(d.get("note", "")),
            str(d.get("author", "")),
            entry.at,
            entry.seq,
            None if principal is None else str(principal.get("via")),
        )


class ApprovalStore:
    """Review decisions of one project: written to its audit chain (and the
    ``cairn_approvals`` index) and read back from the chain.

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
    >>> from cairn.auth import Principal
    >>> engine = sqlalchemy.create_engine("sqlite://")
    >>> store = ApprovalStore(engine, "credit", AuditLog(engine, "credit"))
    >>> ana, bo = Principal("ana", "approver"), Principal("bo", "approver")
    >>> store.record("credit", "3", principal=ana, ticket="MRR-2026-0123",
    ...              decision="approve", author="ana")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cairn.registry.errors.GovernanceError: four eyes: the author of credit v3 (ana) cannot...
    >>> store.record("credit", "3", principal=bo, ticket="MRR-2026-0123",
    ...              decision="approve", author="ana").decision
    'approve'
    >>> store.latest("credit", "3").reviewer
    'bo'
    >>> [e.action for e in store.audit.entries()]
    ['governance.refused', 'approval.recorded']
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
        principal: Principal,
        ticket: str,
        decision: str,
        note: str = "",
        author: str,
        reviewer: str | None = None,
        author_authenticated: bool | None = None,
    ) -> Approval:
        """Record ``principal``'s review decision; it must not be the version's author.

        ``reviewer`` is an optional display name: it must be the principal's name (compared
        casefolded), else the decision is refused. Raises
        :class:`~cairn.auth.AccessDeniedError` for a principal below the approver role and
        :class:`~cairn.registry.errors.GovernanceError` for a self-review, a reviewer name
        that is not the principal's, an unknown decision, or a missing or malformed ticket;
        each refusal is first written as ``governance.refused``. A decision writes
        ``approval.recorded`` (actor: the principal; subject: ``model/version``).
        """
        model = require_text("model", model, "ApprovalStore.record")
        version = require_text("version", version, "ApprovalStore.record", max_len=64)
        label = f"{model} v{version}" if version.isdigit() else f"{model} {version}"
        action = decision if decision in DECISIONS else "approve"
        with audited_refusal(self.audit, principal, action, f"{model}/{version}"):
            fields = self._checked(
                label, principal, ticket, decision, note, author, reviewer, model, version
            )
        if author_authenticated is not None:
            fields["author_authenticated"] = author_authenticated
        fields["principal"] = principal.to_dict()
        row = {k: fields[k] for k in ("model", "version", "reviewer", "ticket", "decision")}
        row.update(note=fields["note"], author=fields["author"])

        def write(conn: Connection, at: datetime) -> dict[str, Any]:
            conn.execute(approvals.insert().values(project=self.project, at=at, **row))
            return fields

        entry = self.audit.append_with(
            principal.name, APPROVAL_ACTION, f"{model}/{version}", write, now=self.now
        )
        return Approval.from_entry(entry)

    def _checked(
        self,
        label: str,
        principal: Principal,
        ticket: object,
        decision: str,
        note: object,
        author: str,
        reviewer: str | None,
        model: str,
        version: str,
    ) -> dict[str, Any]:
        if decision not in DECISIONS:
            raise GovernanceError(
                f"The decision on {label} must be 'approve' or 'reject'; got {decision!r}."
            )
        name = _person("reviewer", principal.name, label)
        author = _person("author", author, label)
        if reviewer is not None and not (isinstance(reviewer, str) and same_person(reviewer, name)):
            raise GovernanceError(
                f"The reviewer name {reviewer!r} given for {label} is not the authenticated "
                f"principal {name!r} ({principal.via}); drop --reviewer or use the token of "
                f"{reviewer!r}."
            )
        if same_person(name, author):
            raise GovernanceError(
                f"four eyes: the author of {label} ({author}) cannot {decision} it; "
                f"ask another reviewer."
            )
        # after four eyes: an author is told the rule that binds whatever their role
        principal.require("approver", f"{decision} {label}")
        if not isinstance(ticket, str) or not self.ticket_pattern.match(ticket):
            raise GovernanceError(
                f"The review of {label} needs a ticket matching {self.ticket_pattern.pattern} "
                f"(e.g. MRR-2026-0123); got {ticket!r}."
            )
        if not isinstance(note, str):
            raise RegistryInputError(f"The note on {label} must be a string; got {note!r}.")
        return {
            "model": model,
            "version": version,
            "reviewer": name,
            "ticket": ticket,
            "decision": decision,
            "note": note,
            "author": author,
        }

    def latest(self, model: str, version: str) -> Approval | None:
        """The most recent decision on one version (from the audit chain), or None."""
        found = self.audit.entries(subject=f"{model}/{version}", action=APPROVAL_ACTION, limit=1)
        return Approval.from_entry(found[-1]) if found else None

    def latest_by_version(self, model: str) -> dict[str, Approval]:
        """The most recent decision on each version of ``model`` that has one, read in one
        query (what :meth:`latest` answers for each version, for listings)."""
        prefix = f"{model}/"
        found: dict[str, AuditEntry] = {}
        # oldest first: the last decision on a version wins
        for entry in self.audit.entries(action=APPROVAL_ACTION, subject_prefix=prefix):
            found[entry.subject[len(prefix) :]] = entry
        return {version: Approval.from_entry(e) for version, e in found.items()}

    def history(self, model: str, version: str | None = None) -> list[Approval]:
        """Every decision on a model (or one version), in the order the chain holds them."""
        if version is not None:
            entries = self.audit.entries(subject=f"{model}/{version}", action=APPROVAL_ACTION)
        else:
            entries = [
                e
                for e in self.audit.entries(action=APPROVAL_ACTION)
                if e.details.get("model", e.subject.rpartition("/")[0]) == model
            ]
        return [Approval.from_entry(e) for e in entries]


def same_person(a: str, b: str) -> bool:
    """Whether two names are the same person (casefolded, surrounding spaces ignored).

    Example
    -------
    >>> same_person(" Ana", "ana")
    True
    """
    return a.strip().casefold() == b.strip().casefold()


def _person(role: str, value: object, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GovernanceError(f"The review of {label} needs a named {role}; got {value!r}.")
    return value
