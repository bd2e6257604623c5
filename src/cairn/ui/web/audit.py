"""The Audit page's data: the project's hash-chained audit log, newest entry first, filtered by
subject and action, and the chain's verification (:meth:`cairn.registry.AuditLog.verify`, what
``cairn audit verify`` runs).

Only the page's entries are read (:meth:`~cairn.registry.AuditLog.entries` with ``limit`` and
``skip``; the count and the actions are one query each), and the chain is verified
incrementally: the entries the project's log verified on an earlier view are compared byte for
byte, not hashed again; only those appended since are (``verify(incremental=True)``; an edited
old entry makes it verify the whole chain, and the page shows the break)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.ui.web.paging import PAGE_SIZE, Page, page_bounds

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
    total = log.count(subject=subject, action=action)
    pages, skip = page_bounds(total, page)
    shown = log.entries(subject=subject, action=action, limit=PAGE_SIZE, skip=skip)
    entries = Page(shown[::-1], page, pages, total)
    return AuditPage(entries, subject, action, log.actions(), log.verify(incremental=True))
