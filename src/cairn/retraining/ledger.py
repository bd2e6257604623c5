"""The retraining ledger: every decision of a project's policies, once, and how far its run got.

One row per decision in ``cairn_retraining_ledger`` (migration 0006), in the metadata database
(SQLite or PostgreSQL), unique on ``(project, policy, trigger, window)``:

* :meth:`Ledger.record` is idempotent, also across processes: the insert does nothing when the
  key is there (``INSERT ... ON CONFLICT DO NOTHING``, the database's unique constraint decides,
  not a check-then-insert), then the row is read back. Recording a decision a second time, or
  in two controllers at once, returns the one row;
* :meth:`Ledger.advance` moves an entry along the states of :mod:`cairn.retraining.entry`,
  compare-and-set on its current state: of two processes moving the same entry, one wins and
  the other gets a :class:`LedgerConflict` (so a run is trained once: whoever moves
  ``decided -> training`` trains).

Example
-------
>>> from cairn.retraining.decision import Decision
>>> ledger = Ledger("sqlite://", project="demo")
>>> d = Decision("credit", "manual", "ticket-42", "run", "asked", at=1_000)
>>> first = ledger.record(d)
>>> again = ledger.record(d)
>>> (first.id == again.id, first.state)
(True, 'decided')
>>> ledger.advance(first, "training", {"rows": 1000}, training_run_id="abc").numbers
{'rows': 1000}
>>> [e.state for e in ledger.entries("credit")], ledger.last_run("credit").training_run_id
(['training'], 'abc')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.core.errors import CairnError
from cairn.metadata import MetadataStore, create_tables, engine_of, utc, with_retries
from cairn.retraining.decision import Decision
from cairn.retraining.entry import STATES, LedgerEntry, State, can_move

if TYPE_CHECKING:
    from cairn.registry.audit import AuditLog

__all__ = ["Ledger", "LedgerConflict", "TransitionError", "ledger_table"]

metadata = sa.MetaData()

ledger_table = sa.Table(
    "cairn_retraining_ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("policy", sa.String(128), nullable=False),
    sa.Column("trig", sa.String(16), nullable=False),  # "trigger" is an SQL keyword
    sa.Column("window_key", sa.String(256), nullable=False),  # so is "window"
    sa.Column("action", sa.String(8), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("numbers", sa.Text, nullable=False),
    sa.Column("decided_at", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("training_run_id", sa.String(64), nullable=True),
    sa.UniqueConstraint(
        "project", "policy", "trig", "window_key", name="uq_cairn_retraining_ledger_key"
    ),
    sa.Index("ix_cairn_retraining_ledger_policy", "project", "policy", "decided_at"),
)
_KEY = ("project", "policy", "trig", "window_key")


class TransitionError(CairnError, ValueError):
    """A ledger entry was asked to move to a state its current one does not lead to."""


class LedgerConflict(TransitionError):
    """Another process moved the entry first: it is no longer in the state the caller read."""


class Ledger:
    """The retraining decisions of one project.

    Parameters
    ----------
    metadata:
        A :class:`~cairn.metadata.MetadataStore`, an SQLAlchemy engine, or a database URL
        (relative SQLite paths resolve against ``root``).
    project:
        The project the decisions belong to.
    """

    def __init__(
        self, metadata: MetadataStore | Engine | str, *, project: str, root: Path | None = None
    ) -> None:
        self.engine: Engine = engine_of(metadata, root=root)
        self.project = project
        create_tables(ledger_table.metadata, self.engine)

    def record(self, decision: Decision) -> LedgerEntry:
        """The entry of ``decision``: inserted now, or the one already recorded under its key
        (then unchanged: the first decision of an occasion is the one kept)."""
        return self.record_new(decision)[0]

    def record_new(
        self, decision: Decision, *, audit: AuditLog | None = None, actor: str | None = None
    ) -> tuple[LedgerEntry, bool]:
        """:meth:`record`, and whether this call inserted the entry (False: it was there).

        With ``audit``, a new entry and its audit entry (``retraining.decided`` or
        ``retraining.skipped`` with the decision's reason and numbers) commit together; an
        entry already there appends nothing."""
        now = datetime.now(UTC)
        row = {
            "project": self.project,
            "policy": decision.policy,
            "trig": decision.trigger,
            "window_key": decision.window,
            "action": decision.action,
            "state": "decided" if decision.runs else "skipped",
            "reason": decision.reason,
            "numbers": _json(decision.numbers),
            "decided_at": decision.at,
            "created_at": now,
            "updated_at": now,
            "training_run_id": None,
        }

        def insert(conn: Connection) -> tuple[LedgerEntry, bool]:
            inserted = conn.execute(self._insert_new(row)).rowcount
            found = conn.execute(sa.select(ledger_table).where(*self._key(*decision.key))).one()
            return _entry(found), bool(inserted)

        def attempt() -> tuple[LedgerEntry, bool]:
            with self.engine.begin() as conn:
                return insert(conn)

        if audit is None:
            return with_retries(attempt, what=f"record {decision.describe()!r} in the ledger")
        made: list[LedgerEntry] = []

        def step(conn: Connection, _at: Any) -> dict[str, Any]:
            entry, new = insert(conn)
            if not new:
                raise _Recorded(entry)  # rolls the audit append back: nothing new to audit
            made[:] = [entry]
            return {"entry": entry.id, "trigger": decision.trigger, "window": decision.window,
                    "reason": decision.reason, "numbers": dict(decision.numbers)}  # fmt: skip

        try:
            audit.append_with(
                actor or "cairn-retrain",
                f"retraining.{row['state']}",
                f"retraining/{decision.policy}",
                step,
            )
        except _Recorded as known:
            return known.entry, False
        return made[0], True

        return with_retries(attempt, what=f"record {decision.describe()!r} in the ledger")

    def advance(
        self,
        entry: LedgerEntry,
        state: State,
        numbers: Mapping[str, Any] | None = None,
        *,
        reason: str | None = None,
        training_run_id: str | None = None,
        audit: AuditLog | None = None,
        actor: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> LedgerEntry:
        """Move ``entry`` to ``state``, adding ``numbers`` to its numbers (and setting the
        reason and the training run when given).

        With ``audit``, the move and its audit entry (``retraining.STATE`` on subject
        ``retraining/POLICY`` by ``actor``, with ``details``) commit in one transaction:
        both or neither (the audit log must live in the ledger's database).

        Raises
        ------
        TransitionError
            When ``entry.state`` does not lead to ``state``.
        LedgerConflict
            When the stored entry is no longer in ``entry.state`` (another process moved it).
        """
        if state not in STATES:
            raise TransitionError(f"Unknown ledger state {state!r}; the states are {STATES}.")
        if not can_move(entry.state, state):
            raise TransitionError(
                f"Ledger entry #{entry.id} ({entry.policy} {entry.trigger} [{entry.window}]) "
                f"cannot move from {entry.state} to {state}."
            )
        values: dict[str, Any] = {
            "state": state,
            "numbers": json.dumps(
                {**entry.numbers, **(numbers or {})}, sort_keys=True, default=str
            ),
            "updated_at": datetime.now(UTC),
        }
        if reason is not None:
            values["reason"] = reason
        if training_run_id is not None:
            values["training_run_id"] = training_run_id

        if audit is None:

            def attempt() -> LedgerEntry:
                with self.engine.begin() as conn:
                    return self._move(conn, entry, values)

            return with_retries(attempt, what=f"move ledger entry #{entry.id} to {state}")
        moved: list[LedgerEntry] = []

        def step(conn: Connection, _at: Any) -> dict[str, Any]:
            moved[:] = [self._move(conn, entry, values)]
            return {"entry": entry.id, "from": entry.state, "to": state, **dict(details or {})}

        audit.append_with(
            actor or "cairn-retrain",
            f"retraining.{state}",
            f"retraining/{entry.policy}",
            step,
        )
        return moved[0]

    def _move(self, conn: Connection, entry: LedgerEntry, values: dict[str, Any]) -> LedgerEntry:
        """The compare-and-set update of one entry inside ``conn``'s transaction."""
        t = ledger_table
        changed = conn.execute(
            t.update()
            .where(t.c.id == entry.id, t.c.project == self.project)
            .where(t.c.state == entry.state)
            .values(**values)
        ).rowcount
        found = conn.execute(sa.select(t).where(t.c.id == entry.id)).one_or_none()
        if found is None:
            raise KeyError(f"No ledger entry #{entry.id} in project {self.project!r}.")
        if not changed:
            raise LedgerConflict(
                f"Ledger entry #{entry.id} ({entry.policy} {entry.trigger} [{entry.window}]) "
                f"is in state {found.state}, not {entry.state}: another process moved it."
            )
        return _entry(found)

    def get(self, entry_id: int) -> LedgerEntry:
        """One entry by id (KeyError when there is none)."""
        t = ledger_table
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(t).where(t.c.id == entry_id, t.c.project == self.project)
            ).one_or_none()
        if found is None:
            raise KeyError(f"No ledger entry #{entry_id} in project {self.project!r}.")
        return _entry(found)

    def entries(self, policy: str | None = None) -> list[LedgerEntry]:
        """The entries (of one policy), oldest decision first: what the decision engine reads
        as ``past``."""
        t = ledger_table
        query = sa.select(t).where(t.c.project == self.project).order_by(t.c.decided_at, t.c.id)
        if policy is not None:
            query = query.where(t.c.policy == policy)
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def last_run(self, policy: str) -> LedgerEntry | None:
        """The policy's latest decision to run (None: it never ran)."""
        t = ledger_table
        query = (
            sa.select(t)
            .where(t.c.project == self.project, t.c.policy == policy, t.c.action == "run")
            .order_by(t.c.decided_at.desc(), t.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).one_or_none()
        return None if found is None else _entry(found)

    # -- internals ---------------------------------------------------------------------------

    def _key(self, policy: str, trigger: str, window: str) -> list[sa.ColumnElement[bool]]:
        t = ledger_table
        return [
            t.c.project == self.project,
            t.c.policy == policy,
            t.c.trig == trigger,
            t.c.window_key == window,
        ]

    def _insert_new(self, row: dict[str, Any]) -> sa.Executable:
        """An insert that does nothing when the key exists (the unique constraint decides)."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(ledger_table).values(**row).on_conflict_do_nothing(index_elements=_KEY)
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return (
                sqlite_insert(ledger_table)
                .values(**row)
                .on_conflict_do_nothing(index_elements=_KEY)
            )
        raise CairnError(
            f"The retraining ledger supports SQLite and PostgreSQL metadata databases; got "
            f"{dialect}."
        )


class _Recorded(Exception):
    """The decision was already in the ledger (raised inside an audited insert)."""

    def __init__(self, entry: LedgerEntry) -> None:
        super().__init__(entry.id)
        self.entry = entry


def _json(numbers: Mapping[str, Any]) -> str:
    return json.dumps(dict(numbers), sort_keys=True, default=str)


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=int(row.id),
        policy=row.policy,
        trigger=row.trig,
        window=row.window_key,
        action=row.action,
        state=row.state,
        reason=row.reason,
        decided_at=int(row.decided_at),
        numbers=json.loads(row.numbers),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        training_run_id=row.training_run_id,
    )
