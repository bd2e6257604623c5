"""Artifacts you can trust: a version's artifact must hash to what the audit chain recorded.

Registration appends ``model.registered`` with ``artifact_sha256`` (the SHA-256 of the logged
model folder, :func:`cairn.tracking.artifact_digest.folder_sha256`). Before a version's
artifact is loaded (serving, shadows, canaries, reproduction) its folder is hashed again and
compared with that entry, never with the version's tag (tags can be edited in MLflow; the
chain cannot be without ``cairn audit verify`` noticing). A mismatch is refused with
:class:`ArtifactTamperedError`; a version registered before digests were recorded loads with
a warning (``cairn models verify`` lists it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from cairn.core.errors import ArtifactTamperedError
from cairn.tracking.artifact_digest import version_sha256

if TYPE_CHECKING:
    from cairn.tracking.tracker import Tracker

__all__ = [
    "DETAIL",
    "ArtifactCheck",
    "ArtifactTamperedError",
    "AuditEntries",
    "check_artifact",
    "recorded_sha256",
    "verify_run",
    "verify_version",
]

logger = logging.getLogger(__name__)

DETAIL = "artifact_sha256"
"""The key of the digest in the ``model.registered`` audit entry's details."""

Status = Literal["ok", "mismatch", "unrecorded"]


class _Entry(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def details(self) -> Mapping[str, object]: ...


@runtime_checkable
class AuditEntries(Protocol):
    """What reading the digest needs of :class:`cairn.registry.AuditLog`."""

    def entries(self, *, subject: str | None = ..., action: str | None = ...) -> Sequence[_Entry]:
        """Entries oldest first."""
        ...


def recorded_sha256(audit: AuditEntries, name: str, version: str) -> str | None:
    """The artifact digest the chain recorded when ``name/version`` was registered (the
    latest ``model.registered`` entry of it), or None when none was recorded."""
    found = audit.entries(subject=f"{name}/{version}", action="model.registered")
    for entry in reversed(found):
        value = entry.details.get(DETAIL)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class ArtifactCheck:
    """One version's artifact against the chain."""

    name: str
    version: str
    actual: str
    recorded: str | None

    @property
    def status(self) -> Status:
        """``ok``, ``mismatch``, or ``unrecorded`` (registered before digests were kept)."""
        if self.recorded is None:
            return "unrecorded"
        return "ok" if self.actual == self.recorded else "mismatch"

    def message(self) -> str:
        """One line saying what the check found.

        Example
        -------
        >>> ArtifactCheck("credit-default", "3", "9f2c", "41ab").message()
        "credit-default/3: the artifact's SHA-256 is 9f2c but the audit log recorded 41ab at registration; refusing to load it (tampered or replaced)."
        """  # noqa: E501
        where = f"{self.name}/{self.version}"
        if self.status == "mismatch":
            return (
                f"{where}: the artifact's SHA-256 is {self.actual} but the audit log recorded "
                f"{self.recorded} at registration; refusing to load it (tampered or replaced)."
            )
        if self.status == "unrecorded":
            return (
                f"{where}: no artifact SHA-256 was recorded at registration (registered before "
                f"digests were kept); its artifact ({self.actual}) cannot be verified."
            )
        return f"{where}: the artifact's SHA-256 {self.actual} matches the audit log."

    def enforce(self) -> None:
        """Raise :class:`ArtifactTamperedError` on a mismatch; warn on an unrecorded digest."""
        if self.status == "mismatch":
            raise ArtifactTamperedError(self.message())
        if self.status == "unrecorded":
            logger.warning("%s Loading it anyway.", self.message())


def check_artifact(audit: AuditEntries, name: str, version: str, actual: str) -> ArtifactCheck:
    """Compare an artifact digest ``actual`` with the chain's record of ``name/version``.

    Example
    -------
    >>> class Log:
    ...     def entries(self, *, subject=None, action=None):
    ...         return []
    >>> check_artifact(Log(), "credit-default", "1", "ab").status
    'unrecorded'
    """
    return ArtifactCheck(name, str(version), actual, recorded_sha256(audit, name, str(version)))


def verify_version(tracker: Tracker, audit: AuditEntries, name: str, version: str) -> ArtifactCheck:
    """Hash ``name/version``'s artifact as stored now and compare it with the chain."""
    return check_artifact(audit, name, version, version_sha256(tracker, name, str(version)))


def verify_run(tracker: Tracker, audit: AuditEntries, run_id: str) -> list[ArtifactCheck]:
    """Every version the chain says was registered from run ``run_id``, checked."""
    checks: dict[str, ArtifactCheck] = {}
    for entry in audit.entries(action="model.registered"):
        if entry.details.get("run_id") == run_id and entry.subject not in checks:
            name, _, version = entry.subject.rpartition("/")
            checks[entry.subject] = verify_version(tracker, audit, name, version)
    return list(checks.values())
