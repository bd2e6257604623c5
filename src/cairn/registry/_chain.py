"""The hash chain itself: canonical JSON, entry hashes and the stored rows ``verify`` checks.

Pure functions over stored rows, so the rules can be read (and re-implemented by an auditor)
without a database. An entry's hash is the SHA-256 (hex) of the canonical JSON of::

    {"action": ..., "actor": ..., "at": "2026-03-01T00:00:00.000000+00:00",
     "details": {...}, "prev_hash": ..., "project": ..., "seq": 1, "subject": ...}

Canonical JSON: keys sorted, no spaces (``","`` and ``":"``), UTF-8, no NaN or infinity.
The first entry's ``prev_hash`` is :data:`GENESIS_HASH` (64 zeros). How the rows are checked
against each other is :mod:`cairn.registry._classify`'s.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cairn.registry.errors import RegistryInputError

GENESIS_HASH = "0" * 64


def canonical_json(value: Any, *, owner: str = "details") -> str:
    """Serialise ``value`` the one way the chain hashes it.

    Example
    -------
    >>> canonical_json({"b": [1, 2.5], "a": "é"})
    '{"a":"é","b":[1,2.5]}'
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise RegistryInputError(
            f"{owner} must hold only JSON values (str, int, float, bool, None, lists and "
            f"mappings with string keys, no NaN); got {value!r} ({exc})."
        ) from None


def iso(at: datetime) -> str:
    """The stored and hashed form of a time: UTC ISO 8601 with microseconds.

    Example
    -------
    >>> iso(datetime(2026, 3, 1, tzinfo=UTC))
    '2026-03-01T00:00:00.000000+00:00'
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise RegistryInputError(
            f"Audit times must be timezone-aware (UTC); got the naive {at.isoformat()!r}."
        )
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    seq: int,
    project: str,
    at: str,
    actor: str,
    action: str,
    subject: str,
    details: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry's canonical JSON; ``at`` is the :func:`iso` text.

    Example
    -------
    >>> at = "2026-03-01T00:00:00.000000+00:00"
    >>> h = entry_hash(1, "p", at, "ana", "a", "s", {}, GENESIS_HASH)
    >>> len(h), h == entry_hash(2, "p", at, "ana", "a", "s", {}, GENESIS_HASH)
    (64, False)
    """
    payload = {
        "seq": seq,
        "project": project,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    """One audit row exactly as stored (``details`` is the stored JSON text)."""

    seq: int
    project: str
    at: str
    actor: str
    action: str
    subject: str
    details: str
    prev_hash: str
    hash: str

    def hash_as(self, seq: int) -> str | None:
        """The hash this row would have at position ``seq``; None when details are not JSON."""
        try:
            details = json.loads(self.details)
        except ValueError:
            return None
        return entry_hash(
            seq,
            self.project,
            self.at,
            self.actor,
            self.action,
            self.subject,
            details,
            self.prev_hash,
        )


def parse_at(text: str) -> datetime:
    """The stored time text back as an aware UTC datetime."""
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
