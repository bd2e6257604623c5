"""Refused governance actions leave a trace: a ``governance.refused`` entry in the chain.

A self-approval, a promotion without approval, a role too low, an approver who is also the
promoter when the policy forbids it, too few approvals, a reviewer name that is not the
authenticated principal's: each is appended to the audit log *before* the error reaches the
caller, so "who tried what, and why it was refused" survives in the same hash chain as the
actions that succeeded. The entry names the principal (actor), the model version or deployment
(subject), and details ``{"action", "reason", "principal"}``. The error carries the entry's
sequence number as ``audit_seq``.

Example
-------
>>> import sqlalchemy
>>> from cairn.auth import Principal
>>> from cairn.registry.audit import AuditLog
>>> log = AuditLog(sqlalchemy.create_engine("sqlite://"), "credit")
>>> ana = Principal("ana", "deployer", via="token:tk_1")
>>> try:
...     with audited_refusal(log, ana, "approve", "credit/3"):
...         ana.require("approver", "approve credit v3")
... except PermissionError as exc:
...     print(exc.audit_seq, log.entries()[-1].action, log.entries()[-1].details["action"])
1 governance.refused approve
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cairn.auth.principal import AccessDeniedError, Principal
from cairn.core.errors import CairnError
from cairn.registry.errors import GovernanceError

if TYPE_CHECKING:
    from cairn.registry.audit import AuditEntry, AuditLog

REFUSED_ACTION = "governance.refused"

__all__ = ["REFUSED_ACTION", "audited_refusal", "record_refusal"]


def record_refusal(
    audit: AuditLog, principal: Principal, action: str, subject: str, error: BaseException
) -> AuditEntry | None:
    """Append ``governance.refused`` for ``error`` and mark the error with ``audit_seq``.

    An error already marked is not recorded twice (nested checks). If the chain itself refuses
    the append (e.g. it is damaged), the original error gets a note saying so and None is
    returned: the refusal must still reach the caller.
    """
    if getattr(error, "audit_seq", None) is not None:
        return None
    details = {"action": action, "reason": str(error), "principal": principal.to_dict()}
    try:
        actor = principal.name if principal.name.strip() else "unknown"
        entry = audit.append(actor, REFUSED_ACTION, subject, details)
    except CairnError as exc:
        error.add_note(f"(this refusal could not be written to the audit log: {exc})")
        return None
    error.audit_seq = entry.seq  # type: ignore[attr-defined]
    return entry


@contextmanager
def audited_refusal(
    audit: AuditLog, principal: Principal, action: str, subject: str
) -> Iterator[None]:
    """Run a governance action; a :class:`GovernanceError` or :class:`AccessDeniedError`
    raised inside is recorded as ``governance.refused`` before it propagates.

    Parameters
    ----------
    audit:
        The project's audit log.
    principal:
        Who attempted the action.
    action:
        What was attempted (``approve``, ``promote``, ``set_policy``, ``rollout.promote`` ...).
    subject:
        What it was attempted on (``model/version``, ``model@alias``, ``model``,
        ``deployment/NAME``).
    """
    try:
        yield
    except (GovernanceError, AccessDeniedError) as exc:
        record_refusal(audit, principal, action, subject, exc)
        raise
