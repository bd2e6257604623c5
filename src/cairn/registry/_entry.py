"""One audit entry as readers see it, and how a stored row of the chain becomes one.

The stored row keeps ``details`` as canonical JSON text and ``at`` as the hashed time text
(:mod:`cairn.registry._chain`); an :class:`AuditEntry` has them parsed. Details that do not
parse are shown as ``{"<unreadable>": text}`` (``verify`` names such an entry as edited); a
time that does not parse is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cairn.registry._chain import parse_at
from cairn.registry.errors import AuditTamperedError


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the chain."""

    seq: int
    project: str
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def entry_of(row: Any) -> AuditEntry:
    """The entry a stored row of ``cairn_audit_log`` holds."""
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"<unreadable>": row.details}
    try:
        at = parse_at(row.at)
    except ValueError:
        raise AuditTamperedError(
            f"Audit entry {row.seq} of project {row.project!r} has an unreadable time "
            f"{row.at!r}; run `cairn audit verify`."
        ) from None
    return AuditEntry(
        row.seq,
        row.project,
        at,
        row.actor,
        row.action,
        row.subject,
        details if isinstance(details, dict) else {"<unreadable>": row.details},
        row.prev_hash,
        row.hash,
    )
