"""Governance of model versions (SR 11-7 style): approvals, alias history, the audit log.

- :class:`AuditLog`: an append-only, hash-chained log of every governance action, with
  :meth:`AuditLog.verify` naming each edited, deleted, inserted or reordered entry.
- :class:`ApprovalStore`: review decisions under the four-eyes rule (the author of a version
  never reviews it), each with a review ticket.
- :class:`AliasHistory`: every move of ``champion``, ``fallback`` and ``challenger[-name]``,
  so the version behind an alias at any past time has an answer.
- :func:`reconcile`: the approval and alias-move index tables compared with the chain, entry
  by entry (a row written by SQL is a :class:`Mismatch`).

All of them live in the metadata database (SQLite by default, PostgreSQL by URL); approvals
and alias moves commit together with their audit entries and are read back from the chain.
Every action is taken by an authenticated :class:`~cairn.auth.Principal`; refusals are
``governance.refused`` entries.

Example
-------
>>> import sqlalchemy
>>> from cairn.auth import Principal
>>> engine = sqlalchemy.create_engine("sqlite://")
>>> audit = AuditLog(engine, "credit")
>>> approvals = ApprovalStore(engine, "credit", audit)
>>> aliases = AliasHistory(engine, "credit", audit)
>>> bo = Principal("bo", "approver", via="token:tk_1")
>>> _ = approvals.record("credit", "3", principal=bo, ticket="MRR-2026-0123",
...                      decision="approve", author="ana")
>>> _ = aliases.record("credit", "champion", "3", principal=bo, reason="MRR-2026-0123")
>>> [e.action for e in audit.entries()], audit.verify().ok
(['approval.recorded', 'alias.moved'], True)
"""

from __future__ import annotations

from cairn.registry._chain import GENESIS_HASH
from cairn.registry.aliases import ALIASES, AliasHistory, AliasMove, validate_alias
from cairn.registry.approvals import DEFAULT_TICKET_PATTERN, Approval, ApprovalStore
from cairn.registry.audit import AuditEntry, AuditLog, AuditVerification
from cairn.registry.errors import (
    AuditLogBusyError,
    AuditTamperedError,
    GovernanceError,
    RegistryInputError,
)
from cairn.registry.reconcile import Mismatch, reconcile
from cairn.registry.refusals import REFUSED_ACTION, audited_refusal, record_refusal

__all__ = [
    "ALIASES",
    "DEFAULT_TICKET_PATTERN",
    "GENESIS_HASH",
    "REFUSED_ACTION",
    "AliasHistory",
    "AliasMove",
    "Approval",
    "ApprovalStore",
    "AuditEntry",
    "AuditLog",
    "AuditLogBusyError",
    "AuditTamperedError",
    "AuditVerification",
    "GovernanceError",
    "Mismatch",
    "RegistryInputError",
    "audited_refusal",
    "reconcile",
    "record_refusal",
    "validate_alias",
]
