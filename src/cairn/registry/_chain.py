"""The hash chain itself: canonical JSON, entry hashes, and the checks behind ``verify``.

Pure functions over stored rows, so the rules can be read (and re-implemented by an auditor)
without a database. An entry's hash is the SHA-256 (hex) of the canonical JSON of::

    {"action": ..., "actor": ..., "at": "2026-03-01T00:00:00.000000+00:00",
     "details": {...}, "prev_hash": ..., "project": ..., "seq": 1, "subject": ...}

Canonical JSON: keys sorted, no spaces (``","`` and ``":"``), UTF-8, no NaN or infinity.
The first entry's ``prev_hash`` is :data:`GENESIS_HASH` (64 zeros).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cairn.registry.errors import RegistryInputError

GENESIS_HASH = "0" * 64
_MAX_MOVE_CANDIDATES = 256


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


def find_problems(
    rows: Iterable[StoredEntry], head: tuple[int, str] | None
) -> tuple[int, list[str]]:
    """Check a project's rows (in ``seq`` order) against each other and the head record.

    Returns the number of rows and one message per problem, each naming the entry.

    Example
    -------
    >>> at = "2026-03-01T00:00:00.000000+00:00"
    >>> h1 = entry_hash(1, "p", at, "ana", "a", "s", {}, GENESIS_HASH)
    >>> row = StoredEntry(1, "p", at, "ana", "a", "s", "{}", GENESIS_HASH, h1)
    >>> find_problems([row], (1, h1))
    (1, [])
    >>> find_problems([], (1, h1))
    (0, ['the chain head was truncated: entry 1 is missing (the head records entry 1)'])
    """
    problems: list[tuple[int, str]] = []
    damaged: dict[int, StoredEntry] = {}
    missing: list[int] = []
    count, prev_seq, prev_hash, prev_damaged = 0, 0, GENESIS_HASH, False
    last: StoredEntry | None = None
    for row in rows:
        count += 1
        last = row
        computed = row.hash_as(row.seq)
        if computed is None:
            problems.append((row.seq, f"entry {row.seq} was edited (details are not valid JSON)"))
        elif computed != row.hash:
            damaged[row.seq] = row
        elif row.details != canonical_json(json.loads(row.details)):
            problems.append((row.seq, f"entry {row.seq} was edited (details were rewritten)"))
        is_damaged = computed is None or computed != row.hash
        if row.seq < 1:
            problems.append(
                (row.seq, f"entry {row.seq} was inserted (sequence numbers start at 1)")
            )
        elif row.seq > prev_seq + 1:
            problems.append((prev_seq + 1, _gap(prev_seq, row.seq)))
            missing.extend(range(prev_seq + 1, min(row.seq, prev_seq + 1 + _MAX_MOVE_CANDIDATES)))
        elif not is_damaged and not prev_damaged and row.prev_hash != prev_hash:
            after = "the genesis hash" if prev_seq == 0 else f"entry {prev_seq}"
            rewritten = "" if prev_seq == 0 else f"; or entry {prev_seq} was rewritten"
            problems.append(
                (
                    row.seq,
                    f"entry {row.seq} was inserted (prev_hash does not match {after}{rewritten})",
                )
            )
        prev_seq, prev_hash, prev_damaged = row.seq, row.hash, is_damaged
    problems.extend(_damaged(damaged, missing))
    problems.extend(_head(last, count, head))
    problems.sort(key=lambda p: p[0])
    return count, [message for _, message in problems]


def _gap(before: int, after: int) -> str:
    missing = (
        f"entry {before + 1} is missing"
        if after - before == 2
        else f"entries {before + 1}-{after - 1} are missing"
    )
    return f"{missing} (sequence gap {before} -> {after})"


def _damaged(damaged: Mapping[int, StoredEntry], missing: list[int]) -> list[tuple[int, str]]:
    """Name each row whose hash does not match: reordered (it hashes as another damaged or
    missing position: seq values were swapped or renumbered) or edited."""
    out: list[tuple[int, str]] = []
    candidates = [*list(damaged)[:_MAX_MOVE_CANDIDATES], *missing[:_MAX_MOVE_CANDIDATES]]
    for seq, row in damaged.items():
        tries = dict.fromkeys([seq - 1, seq + 1, *candidates])  # neighbours: a renumbering
        moved_from = next(
            (other for other in tries if other != seq and row.hash_as(other) == row.hash),
            None,
        )
        if moved_from is None:
            out.append((seq, f"entry {seq} was edited (hash mismatch)"))
        else:
            out.append((seq, f"entry {seq} was reordered (it was written as entry {moved_from})"))
    return out


def _head(
    last: StoredEntry | None, count: int, head: tuple[int, str] | None
) -> list[tuple[int, str]]:
    end = 1 << 62  # head problems sort after every entry problem
    if head is None:
        if count == 0:
            return []
        return [(end, f"the chain head record is missing (the log holds {count} entries)")]
    head_seq, head_hash = head
    last_seq = 0 if last is None else last.seq
    if last_seq < head_seq:
        gone = (
            f"entry {head_seq} is missing"
            if last_seq + 1 == head_seq
            else f"entries {last_seq + 1}-{head_seq} are missing"
        )
        return [(end, f"the chain head was truncated: {gone} (the head records entry {head_seq})")]
    if last_seq > head_seq:
        extra = (
            f"entry {last_seq} was"
            if last_seq == head_seq + 1
            else f"entries {head_seq + 1}-{last_seq} were"
        )
        return [(end, f"{extra} inserted after the chain head (the head records entry {head_seq})")]
    if last is not None and last.hash != head_hash:
        return [(end, f"the chain head does not match entry {head_seq} (its hash differs)")]
    return []


def parse_at(text: str) -> datetime:
    """The stored time text back as an aware UTC datetime."""
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
