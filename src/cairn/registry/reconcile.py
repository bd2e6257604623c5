"""Reconcile the registry's index tables with the audit chain, entry by entry.

Approvals and alias moves are written twice in one transaction: as an entry of the hash
chain (``approval.recorded``, ``alias.moved``) and as a row of ``cairn_approvals`` /
``cairn_alias_moves``, which listings use. Governance reads the chain, so a row written by
SQL cannot approve anything; :func:`reconcile` makes such a row *visible*: a row without its
entry, an entry without its row, or a row whose fields differ from its entry is a
:class:`Mismatch`. ``cairn audit verify`` reports them next to the chain's own problems.

Rows and entries are paired by content (model, version or alias, who, when, ...): each row
was written with exactly its entry's time. Rows left over are paired with left-over entries
of the same model version (or alias) and the same time, which names the edited fields; what
is still left is a row without an entry or an entry without a row.

Example
-------
>>> import sqlalchemy
>>> from cairn.auth import Principal
>>> from cairn.registry import AuditLog, ApprovalStore
>>> engine = sqlalchemy.create_engine("sqlite://")
>>> audit = AuditLog(engine, "credit")
>>> _ = ApprovalStore(engine, "credit", audit).record(
...     "credit", "3", principal=Principal("bo", "approver"), ticket="MRR-2026-0123",
...     decision="approve", author="ana")
>>> reconcile(audit)
[]
>>> with engine.begin() as conn:
...     _ = conn.exec_driver_sql(
...         "INSERT INTO cairn_approvals (project, model, version, reviewer, ticket, decision,"
...         " note, author, at) VALUES ('credit', 'credit', '4', 'mallory', 'MRR-2026-0999',"
...         " 'approve', '', 'ana', '2026-03-01 00:00:00')")
>>> [m.kind for m in reconcile(audit)]
['row-without-entry']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from cairn.metadata.snapshot import read_snapshot
from cairn.registry._checks import LogPlace, from_db
from cairn.registry._entry import AuditEntry
from cairn.registry._tables import APPROVAL_ACTION, MOVED_ACTION, alias_moves, approvals

__all__ = ["Mismatch", "reconcile"]

Kind = Literal["row-without-entry", "entry-without-row", "fields-differ"]
Record = dict[str, Any]


class AuditChain(LogPlace, Protocol):
    """What :func:`reconcile` reads of a project's audit log: its database (which holds the
    index tables too), its project and its entries of one action
    (:class:`cairn.registry.audit.AuditLog` is one)."""

    def entries(
        self, *, action: str | None = None, conn: Connection | None = None
    ) -> list[AuditEntry]:
        """The entries of ``action``, oldest first, read through ``conn``."""
        ...


@dataclass(frozen=True)
class Mismatch:
    """One disagreement between an index table and the audit chain.

    ``kind``: ``row-without-entry`` (e.g. an approval inserted by SQL), ``entry-without-row``
    (a row deleted), ``fields-differ`` (a row edited; ``fields`` names them). ``row_id`` is
    the table's ``id``, ``seq`` the chain entry's sequence number, when there is one.
    """

    kind: Kind
    table: str
    row_id: int | None
    seq: int | None
    fields: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "table": self.table,
            "row_id": self.row_id,
            "seq": self.seq,
            "fields": list(self.fields),
            "message": self.message,
        }


@dataclass(frozen=True)
class _Index:
    """How one table maps to its entries: the fields compared, the pairing key, wording."""

    table: sa.Table
    action: str
    fields: tuple[str, ...]
    key: tuple[str, ...]
    from_entry: Callable[[AuditEntry], Record]
    describe: Callable[[Record], str]


_APPROVALS = _Index(
    approvals,
    APPROVAL_ACTION,
    ("model", "version", "reviewer", "ticket", "decision", "note", "author", "at"),
    ("model", "version", "at"),
    lambda e: {
        **{k: _text(e.details.get(k)) for k in ("model", "version", "ticket", "decision")},
        "reviewer": e.actor,
        "note": _text(e.details.get("note")) or "",
        "author": _text(e.details.get("author")),
        "at": e.at,
    },
    lambda r: f"{r['model']} v{r['version']}: {r['reviewer']} {r['decision']} ({r['ticket']})",
)

_MOVES = _Index(
    alias_moves,
    MOVED_ACTION,
    ("model", "alias", "version", "previous", "actor", "reason", "at"),
    ("model", "alias", "at"),
    lambda e: {
        **{k: _text(e.details.get(k)) for k in ("model", "alias", "version", "previous")},
        "actor": e.actor,
        "reason": _text(e.details.get("reason")),
        "at": e.at,
    },
    lambda r: f"{r['model']}@{r['alias']} -> v{r['version']} by {r['actor']}",
)


def reconcile(audit: AuditChain, *, conn: Connection | None = None) -> list[Mismatch]:
    """Every disagreement between ``cairn_approvals`` / ``cairn_alias_moves`` and the audit
    chain of ``audit``'s project (empty: the tables are exactly the chain's index).

    Parameters
    ----------
    audit:
        The project's audit log (its engine holds the tables too).
    conn:
        Read through this connection (a caller's snapshot); by default, one snapshot of its
        own, so an approval committed with its entry mid-way is never half seen.
    """
    if conn is None:
        with read_snapshot(audit.engine) as own:
            return reconcile(audit, conn=own)
    out: list[Mismatch] = []
    for index in (_APPROVALS, _MOVES):
        out += _reconcile(audit, index, conn)
    return out


def _reconcile(audit: AuditChain, index: _Index, conn: Connection) -> list[Mismatch]:
    t = index.table
    rows = [
        {**{f: getattr(r, f) for f in index.fields}, "id": r.id}
        for r in conn.execute(sa.select(t).where(t.c.project == audit.project).order_by(t.c.id))
    ]
    for row in rows:
        row["at"] = from_db(row["at"])
        for f in index.fields:
            if f != "at" and row[f] is not None:
                row[f] = str(row[f])
    entries = [(e.seq, index.from_entry(e)) for e in audit.entries(action=index.action, conn=conn)]
    rows, entries = _drop_exact(rows, entries, index.fields)
    out: list[Mismatch] = []
    name = t.name
    for row in list(rows):
        key = tuple(row[k] for k in index.key)
        pair = next((p for p in entries if tuple(p[1][k] for k in index.key) == key), None)
        if pair is None:
            continue
        rows.remove(row)
        entries.remove(pair)
        differ = tuple(f for f in index.fields if row[f] != pair[1][f])
        shown = ", ".join(f"{f} {row[f]!r} (chain: {pair[1][f]!r})" for f in differ)
        out.append(
            Mismatch(
                "fields-differ",
                name,
                row["id"],
                pair[0],
                differ,
                f"{name} row {row['id']} differs from audit entry {pair[0]}: {shown}; the "
                f"table was edited outside Cairn (the chain's entry is what counts).",
            )
        )
    for row in rows:
        out.append(
            Mismatch(
                "row-without-entry",
                name,
                row["id"],
                None,
                (),
                f"{name} row {row['id']} ({index.describe(row)}, at {row['at'].isoformat()}) "
                f"has no {index.action} entry in the audit chain: it was written outside Cairn "
                f"and is ignored by promotion and lineage.",
            )
        )
    for seq, entry in entries:
        out.append(
            Mismatch(
                "entry-without-row",
                name,
                None,
                seq,
                (),
                f"audit entry {seq} ({index.action}: {index.describe(entry)}) has no row in "
                f"{name}: the row was deleted outside Cairn.",
            )
        )
    return sorted(out, key=lambda m: (m.seq or 0, m.row_id or 0))


def _drop_exact(
    rows: list[Record], entries: list[tuple[int, Record]], fields: Sequence[str]
) -> tuple[list[Record], list[tuple[int, Record]]]:
    """Rows and entries left after pairing the identical ones (in order)."""
    waiting: dict[tuple[Any, ...], list[tuple[int, Record]]] = {}
    for pair in entries:
        waiting.setdefault(_key(pair[1], fields), []).append(pair)
    left: list[Record] = []
    for row in rows:
        found = waiting.get(_key(row, fields))
        if found:
            found.pop(0)
        else:
            left.append(row)
    rest = sorted((p for group in waiting.values() for p in group), key=lambda p: p[0])
    return left, rest


def _key(record: Record, fields: Iterable[str]) -> tuple[Any, ...]:
    return tuple(record[f] for f in fields)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
