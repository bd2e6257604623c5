"""What an attacker with write access to the database (and Python) does to a chain: pure
functions over stored rows, plus writing the result back with raw SQL. Each attack returns the
rows and the head record as the attacker leaves them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.registry._chain import GENESIS_HASH, StoredEntry, canonical_json, entry_hash

Rows = list[StoredEntry]
Head = tuple[int, str] | None
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def chain(n: int, project: str = "p") -> Rows:
    """A valid chain of ``n`` entries."""
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        rows.append(forge(seq, prev, project=project, actor="ana", n=seq))
        prev = rows[-1].hash
    return rows


def forge(
    seq: int, prev: str, *, project: str = "p", actor: str = "eve", n: int = 0
) -> StoredEntry:
    """A self-consistent entry at ``seq`` linking to ``prev`` (its hash recomputed)."""
    at = (T0 + timedelta(minutes=seq, microseconds=n)).isoformat(timespec="microseconds")
    details = {"n": n}
    digest = entry_hash(seq, project, at, actor, "note", "s", details, prev)
    return StoredEntry(seq, project, at, actor, "note", "s", canonical_json(details), prev, digest)


def head_of(rows: Rows) -> Head:
    return (rows[-1].seq, rows[-1].hash) if rows else None


def renumber(row: StoredEntry, seq: int) -> StoredEntry:
    return dataclasses.replace(row, seq=seq)


def edit(rows: Rows, k: int, column: str, value: str) -> Rows:
    """Change one column of entry ``k`` without recomputing anything."""
    changes: dict[str, Any] = {column: value}
    return [dataclasses.replace(r, **changes) if r.seq == k else r for r in rows]


def rewrite(rows: Rows, k: int) -> Rows:
    """Replace entry ``k`` by a forged one linking to ``k - 1``, its hash recomputed."""
    prev = GENESIS_HASH if k == 1 else rows[k - 2].hash
    return [forge(k, prev, project=r.project) if r.seq == k else r for r in rows]


def delete(rows: Rows, seqs: set[int]) -> Rows:
    return [r for r in rows if r.seq not in seqs]


def delete_renumbered(rows: Rows, k: int) -> Rows:
    """Delete entry ``k`` and renumber the later ones down by 1 (no hash recomputed)."""
    return [r if r.seq < k else renumber(r, r.seq - 1) for r in rows if r.seq != k]


def insert_renumbered(rows: Rows, k: int, m: int, *, good_link: bool) -> Rows:
    """Insert ``m`` forged entries at ``k`` (hashes recomputed, linking to entry ``k - 1`` or
    to a made-up hash) and renumber entries ``k..`` up by ``m``."""
    prev = (GENESIS_HASH if k == 1 else rows[k - 2].hash) if good_link else "f" * 64
    forged = []
    for j in range(m):
        forged.append(forge(k + j, prev, project=rows[0].project, n=j))
        prev = forged[-1].hash
    return [
        *[r for r in rows if r.seq < k],
        *forged,
        *[renumber(r, r.seq + m) for r in rows if r.seq >= k],
    ]


def swap(rows: Rows, i: int, j: int) -> Rows:
    moved = {i: j, j: i}
    return sorted((renumber(r, moved.get(r.seq, r.seq)) for r in rows), key=lambda r: r.seq)


def truncate(rows: Rows, keep: int) -> tuple[Rows, Head]:
    """Cut the tail after ``keep`` and move the head back onto entry ``keep``."""
    kept = rows[:keep]
    return kept, head_of(kept)


def read(engine: Engine, project: str) -> tuple[Rows, dict[str, Any] | None]:
    """The stored rows and head record of a project."""
    with engine.connect() as conn:
        rows = [
            StoredEntry(*r)
            for r in conn.execute(
                sa.text(
                    "SELECT seq, project, at, actor, action, subject, details, prev_hash, hash "
                    "FROM cairn_audit_log WHERE project = :p ORDER BY seq"
                ),
                {"p": project},
            )
        ]
        head = conn.execute(
            sa.text("SELECT * FROM cairn_audit_head WHERE project = :p"), {"p": project}
        ).first()
    return rows, None if head is None else dict(head._mapping)


def store(engine: Engine, project: str, rows: Rows, head: Head) -> None:
    """Replace the project's rows and move its head (its signature columns untouched: the
    attacker has no key)."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM cairn_audit_log WHERE project = :p"), {"p": project})
        if rows:
            conn.execute(
                sa.text(
                    "INSERT INTO cairn_audit_log (project, seq, at, actor, action, subject, "
                    "details, prev_hash, hash) VALUES (:project, :seq, :at, :actor, :action, "
                    ":subject, :details, :prev_hash, :hash)"
                ),
                [{**dataclasses.asdict(r), "project": project} for r in rows],
            )
        if head is not None:
            conn.execute(
                sa.text("UPDATE cairn_audit_head SET seq = :s, hash = :h WHERE project = :p"),
                {"s": head[0], "h": head[1], "p": project},
            )


def rebuild_from(rows: Rows, k: int) -> Rows:
    """Forge entry ``k`` and recompute every later hash, so every link holds: the attack a
    chain alone cannot see (the attacker then moves the head to the new last hash)."""
    out = [r for r in rows if r.seq < k]
    prev = out[-1].hash if out else GENESIS_HASH
    for r in rows:
        if r.seq < k:
            continue
        actor = "eve" if r.seq == k else r.actor
        digest = entry_hash(
            r.seq, r.project, r.at, actor, r.action, r.subject, json.loads(r.details), prev
        )
        out.append(dataclasses.replace(r, actor=actor, prev_hash=prev, hash=digest))
        prev = digest
    return out


def set_head(engine: Engine, project: str, head: dict[str, Any]) -> None:
    """Write the whole head record back (e.g. one saved earlier: a replay)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cairn_audit_head SET seq = :seq, hash = :hash, algorithm = :algorithm, "
                "key_id = :key_id, signature = :signature WHERE project = :project"
            ),
            head,
        )
