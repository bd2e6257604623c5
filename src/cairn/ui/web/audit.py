"""The Audit page's data: the project's hash-chained audit log, newest entry first, filtered by
subject and action, and the chain's verification (:meth:`cairn.registry.AuditLog.verify`, what
``cairn audit verify`` runs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.ui.web.paging import Page, paginate

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.registry.audit import AuditEntry
    from cairn.registry.verification import AuditVerification

__all__ = ["AuditPage", "gather_audit"]


@dataclass(frozen=True)
class AuditPage:
    """Entries (paged, newest first), the filters applied, the actions there are to filter
    on, and the verification of the whole chain."""

    entries: Page[AuditEntry]
    subject: str | None
    action: str | None
    actions: list[str]
    verification: AuditVerification


def gather_audit(
    project: Project, page: int, *, subject: str | None = None, action: str | None = None
) -> AuditPage:
    """Page ``page`` of the audit entries about ``subject`` with ``action`` (None: any)."""
    log = project.audit
    every = log.entries()
    actions = sorted({e.action for e in every})
    chosen = [
        e
        for e in reversed(every)
        if (subject is None or e.subject == subject) and (action is None or e.action == action)
    ]
    return AuditPage(paginate(chosen, page), subject, action, actions, log.verify())
