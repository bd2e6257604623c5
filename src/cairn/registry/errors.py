"""What the registry raises.

::

    CairnError
     ├── GovernanceError     (PermissionError) a governance rule refuses the action
     │                                          (four eyes, review ticket, decision, reviewer name,
     │                                          separation of duties, reason)
     ├── RegistryInputError  (ValueError)      a malformed argument: alias name, empty model
     │                                          name, audit details that are not JSON
     ├── AuditTamperedError  (RuntimeError)    the audit chain is too damaged to append to
     └── AuditLogBusyError   (TimeoutError)    an append kept losing the race for the chain head
"""

from __future__ import annotations

from cairn.core.errors import CairnError


class GovernanceError(CairnError, PermissionError):
    """A governance rule (SR 11-7 style) refuses the action; the message names the rule.

    ``audit_seq`` is the ``governance.refused`` entry that recorded the refusal (None when it
    was not recorded, e.g. a lower-level store used directly)."""

    audit_seq: int | None = None


class RegistryInputError(CairnError, ValueError):
    """An argument to a registry call is malformed; the message names it and what is allowed."""


class AuditTamperedError(CairnError, RuntimeError):
    """The audit chain of a project is damaged so that no entry can be appended safely."""


class AuditLogBusyError(CairnError, TimeoutError):
    """An append could not take the chain head after many attempts (heavy contention)."""
