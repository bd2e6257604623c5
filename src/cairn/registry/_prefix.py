"""Incremental verification: the prefix of a chain verified intact earlier in the process.

``AuditLog.verify`` recomputes every hash of the chain. A reader that verifies again and again
(the dashboard's Audit page, on every view) only needs to hash what was appended since,
*provided the prefix it verified is still exactly what is stored*. A :class:`VerifiedPrefix`
remembers that prefix: its length, its last ``(seq, hash)`` and a fingerprint (BLAKE2b) of
every stored column of every row in it. :func:`extend` compares the stored rows with it and
checks only the rows after it, the way :func:`cairn.registry._classify.classify` checks an
intact chain (each row hashes to its stored hash at its own ``seq``, its details are stored
in canonical form, it links to the row before it, no ``seq`` is skipped, and the head record
names the last row). Any difference in the prefix (an edited, deleted, inserted or reordered
old row, a truncated tail), or any problem after it, answers None: the caller verifies the
whole chain from scratch, which names what happened.

The fingerprint compares stored bytes, so it catches an old row edited *without* recomputing
its hash (the head hash alone would not); it is kept in memory only, never in the database.

Example
-------
>>> from cairn.registry._chain import GENESIS_HASH, StoredEntry, entry_hash
>>> at = "2026-03-01T00:00:00.000000+00:00"
>>> def row(seq, prev):
...     h = entry_hash(seq, "p", at, "ana", "note", "s", {}, prev)
...     return StoredEntry(seq, "p", at, "ana", "note", "s", "{}", prev, h)
>>> one = row(1, GENESIS_HASH)
>>> two = row(2, one.hash)
>>> prefix = VerifiedPrefix.of([one])
>>> extend(prefix, [one, two], (2, two.hash)).count
2
>>> edited = StoredEntry(1, "p", at, "eve", "note", "s", "{}", GENESIS_HASH, one.hash)
>>> extend(prefix, [edited, two], (2, two.hash)) is None
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from cairn.registry._chain import GENESIS_HASH, StoredEntry, canonical_json

__all__ = ["VerifiedPrefix", "extend"]


@dataclass(frozen=True)
class VerifiedPrefix:
    """The first ``count`` rows of a chain, verified intact: the last row's ``(seq, hash)``
    (None when empty) and the fingerprint of every stored column of every row."""

    count: int
    last: tuple[int, str] | None
    digest: bytes

    @classmethod
    def of(cls, rows: Sequence[StoredEntry]) -> VerifiedPrefix:
        """The prefix made of ``rows`` (which the caller has verified intact)."""
        state = _fingerprint(rows)
        last = (rows[-1].seq, rows[-1].hash) if rows else None
        return cls(len(rows), last, state.digest())


def extend(
    prefix: VerifiedPrefix, rows: Sequence[StoredEntry], head: tuple[int, str] | None
) -> VerifiedPrefix | None:
    """The longer verified prefix when ``rows`` (every stored row, in ``seq`` order) start
    with exactly ``prefix`` and the rows after it extend it intact up to ``head``; else None
    (verify the whole chain)."""
    if len(rows) < prefix.count:
        return None
    state = _fingerprint(rows[: prefix.count])
    if state.digest() != prefix.digest:
        return None
    seq, link = (0, GENESIS_HASH) if prefix.last is None else prefix.last
    for row in rows[prefix.count :]:
        if row.seq != seq + 1 or row.prev_hash != link or row.hash_as(row.seq) != row.hash:
            return None
        if row.details != canonical_json(json.loads(row.details)):
            return None
        seq, link = row.seq, row.hash
    last = (seq, link) if rows else None
    if last != head:
        return None
    state.update(_fingerprint_bytes(rows[prefix.count :]))
    return VerifiedPrefix(len(rows), last, state.digest())


def _fingerprint(rows: Sequence[StoredEntry]) -> hashlib.blake2b:
    state = hashlib.blake2b(digest_size=32)
    state.update(_fingerprint_bytes(rows))
    return state


def _fingerprint_bytes(rows: Sequence[StoredEntry]) -> bytes:
    # repr of the tuple of columns: unambiguous (quoted, escaped strings), so no edit can
    # move text from one column or row to the next and keep the same bytes
    return b"".join(
        repr(
            (r.seq, r.project, r.at, r.actor, r.action, r.subject, r.details, r.prev_hash, r.hash)
        ).encode("utf-8", "surrogatepass")
        for r in rows
    )
