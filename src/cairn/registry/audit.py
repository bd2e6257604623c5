"""The append-only, hash-chained audit log of a project.

Every governance action (an approval, an alias move, a promotion) appends one entry. Each
entry carries the SHA-256 of the previous one, and a separate head record holds the last
``seq`` and hash, written in the same transaction as each append; so an edited, deleted,
inserted or reordered entry, and a truncated tail, all show up in :meth:`AuditLog.verify`.
How an entry is hashed is spelled out in :mod:`cairn.registry._chain`.

What a chain alone cannot catch: someone with write access who rewrites an entry, recomputes
every later hash and moves the head (or deletes a whole project's log and head). Two anchors
catch that: an ``anchor`` (:mod:`cairn.registry.anchor`) signs the head on every append with a
key the database does not hold, and an append refuses to extend a head whose signature does
not verify; :meth:`AuditLog.checkpoint` exports the head, signed, to keep elsewhere, and
``verify(checkpoints=...)`` checks the chain against those (:mod:`cairn.registry.checkpoints`).
How ``verify`` names what happened is in :mod:`cairn.registry._classify`.

Appends are serialised by the database. The first statement of an append is a no-op UPDATE
of the project's head row: PostgreSQL takes that row's lock (a concurrent append waits,
then reads the new head); SQLite takes its single write lock. The very first append of a
project inserts the head row instead, and a concurrent first append fails on its primary key
and retries. The head is then advanced with ``UPDATE ... WHERE seq = <old seq>`` and the
entry's primary key is ``(project, seq)``, so even a database that did not serialise would
reject a fork; the loser retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.core.timeutil import utcnow
from cairn.metadata.retry import is_contention, with_retries
from cairn.metadata.snapshot import read_snapshot
from cairn.registry._chain import (
    GENESIS_HASH,
    StoredEntry,
    canonical_json,
    entry_hash,
    iso,
    parse_at,
)
from cairn.registry._checks import require_text
from cairn.registry._classify import ChainProblem, classify
from cairn.registry._entry import AuditEntry, entry_of
from cairn.registry._prefix import VerifiedPrefix, extend
from cairn.registry._tables import audit_head, audit_log, ensure_tables
from cairn.registry.anchor import Anchor, AuditKeyError, head_message
from cairn.registry.checkpoints import Checkpoint
from cairn.registry.errors import AuditLogBusyError, AuditTamperedError, RegistryInputError
from cairn.registry.reconcile import reconcile as reconcile_tables
from cairn.registry.verification import AuditVerification, checkpoint_problems, head_signature

__all__ = ["AuditEntry", "AuditLog", "AuditVerification", "ChainProblem", "Clock", "Step"]

Clock = Callable[[], datetime]
#: Runs inside an append's transaction, after the chain head is locked; gets the entry's
#: time, writes what must commit together with the entry, and returns the entry's details.
Step = Callable[[Connection, datetime], Mapping[str, Any]]


class _HeadMoved(Exception):
    """The head changed between reading and advancing it (a concurrent append won)."""


class AuditLog:
    """The audit log of one project in a SQLAlchemy database (SQLite or PostgreSQL).

    Parameters
    ----------
    engine:
        Where the log lives, e.g. ``MetadataStore(url).engine``; its tables are created.
    project:
        Whose log: each project has its own chain.
    now:
        The clock (default: UTC now); tests inject one for exact timestamps.
    max_attempts:
        How often an append retries after losing a race for the chain head.
    anchor:
        The key that signs the chain head on every append (``audit.signing``; see
        :func:`cairn.registry.anchor.head_anchor`); None: the head is not signed.

    Example
    -------
    >>> import sqlalchemy
    >>> log = AuditLog(sqlalchemy.create_engine("sqlite://"), "credit")
    >>> first = log.append("ana", "model.registered", "credit/1", {"run": "r1"})
    >>> second = log.append("bo", "review.noted", "credit/1", {"decision": "approve"})
    >>> second.seq, second.prev_hash == first.hash, first.prev_hash == "0" * 64
    (2, True, True)
    >>> [e.actor for e in log.entries(subject="credit/1")]
    ['ana', 'bo']
    >>> log.verify().ok, log.verify().signing
    (True, 'none')
    """

    def __init__(
        self,
        engine: Engine,
        project: str,
        *,
        now: Clock = utcnow,
        max_attempts: int = 50,
        anchor: Anchor | None = None,
    ) -> None:
        self.engine = engine
        self.project = require_text("project", project, "AuditLog", max_len=128)
        self.now = now
        if max_attempts < 1:
            raise RegistryInputError(
                f"AuditLog max_attempts must be at least 1; got {max_attempts}."
            )
        self.max_attempts = max_attempts
        self.anchor = anchor
        self._verified: VerifiedPrefix | None = None
        ensure_tables(engine)

    def append(
        self, actor: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Append one entry and return it (with its ``seq`` and ``hash``).

        ``details`` must hold JSON values; it is stored in canonical form.
        """
        payload = dict(details or {})
        canonical_json(payload)  # refuse non-JSON details before taking the lock
        return self.append_with(actor, action, subject, lambda _conn, _at: payload)

    def append_with(
        self, actor: str, action: str, subject: str, step: Step, *, now: Clock | None = None
    ) -> AuditEntry:
        """Append one entry in the same transaction as ``step``'s own writes.

        ``step(conn, at)`` runs after the chain head is locked, so steps of concurrent appends
        run one at a time; it may run more than once (each failed attempt is rolled back). The
        registry's stores record approvals and alias moves this way, so a record and its audit
        entry commit together or not at all.
        """
        owner = "AuditLog.append"
        actor = require_text("actor", actor, owner, max_len=128)
        action = require_text("action", action, owner, max_len=128)
        subject = require_text("subject", subject, owner, max_len=512)
        clock = now or self.now
        if self.anchor is not None and not self.anchor.can_sign:
            raise AuditKeyError(
                f"Cannot append {action!r} to the audit log of project {self.project!r}: "
                f"{self.anchor.describe()} is a public key, which only verifies; appending "
                f"needs the private key (set audit.key_file to the Ed25519 private key)."
            )

        def attempt() -> AuditEntry:
            with self.engine.begin() as conn:
                return self._append_once(conn, actor, action, subject, step, clock)

        return with_retries(
            attempt,
            what=f"append {action!r} to the audit log of project {self.project!r}",
            attempts=self.max_attempts,
            retry_if=_lost_race,
            give_up=lambda last: AuditLogBusyError(
                f"Could not append {action!r} to the audit log of project {self.project!r} "
                f"after {self.max_attempts} attempts: other appends kept taking the chain head "
                f"(last error: {last})."
            ),
        )

    def _append_once(
        self, conn: Connection, actor: str, action: str, subject: str, step: Step, clock: Clock
    ) -> AuditEntry:
        h, log = audit_head, audit_log
        where = h.c.project == self.project
        # Lock the head row first: every later read sees a chain no other append can change.
        created = conn.execute(sa.update(h).where(where).values(seq=h.c.seq)).rowcount == 0
        if created:  # the first append: a concurrent first append fails on the primary key
            conn.execute(h.insert().values(project=self.project, seq=0, hash=GENESIS_HASH))
        head = conn.execute(
            sa.select(h.c.seq, h.c.hash, h.c.algorithm, h.c.key_id, h.c.signature).where(where)
        ).one()
        if self.anchor is not None and not created:
            self._require_signed(self.anchor, head)
        top = conn.execute(
            sa.select(sa.func.max(log.c.seq)).where(log.c.project == self.project)
        ).scalar()
        if created and top is not None:
            raise AuditTamperedError(
                f"The audit log of project {self.project!r} holds entries up to {top} but its "
                f"chain head record is missing; nothing can be appended until this is "
                f"investigated (run `cairn audit verify`)."
            )
        if top is not None and top > head.seq:
            raise AuditTamperedError(
                f"The audit log of project {self.project!r} holds entries after its chain head "
                f"(entry {head.seq}, log ends at {top}); nothing can be appended until this is "
                f"investigated (run `cairn audit verify`)."
            )
        seq, prev_hash = head.seq + 1, head.hash
        at_text = iso(clock())
        at = parse_at(at_text)
        details = json.loads(canonical_json(dict(step(conn, at))))
        digest = entry_hash(seq, self.project, at_text, actor, action, subject, details, prev_hash)
        conn.execute(
            log.insert().values(
                project=self.project,
                seq=seq,
                at=at_text,
                actor=actor,
                action=action,
                subject=subject,
                details=canonical_json(details),
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        moved = conn.execute(
            sa.update(h)
            .where(where, h.c.seq == head.seq, h.c.hash == head.hash)
            .values(seq=seq, hash=digest, **self._signature(seq, digest))
        )
        if moved.rowcount != 1:
            raise _HeadMoved()
        return AuditEntry(seq, self.project, at, actor, action, subject, details, prev_hash, digest)

    def entries(
        self,
        *,
        subject: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        skip: int = 0,
        conn: Connection | None = None,
        subject_prefix: str | None = None,
    ) -> list[AuditEntry]:
        """Entries oldest first, optionally only one subject (or the subjects starting with
        ``subject_prefix``) or action, or from ``since`` on (inclusive); ``limit`` keeps the
        newest ``limit`` of them, after leaving out the newest ``skip`` (a page of a
        newest-first listing). ``conn`` reads them in a caller's transaction (one snapshot
        with its other reads)."""
        log = audit_log
        query = self._matching(sa.select(log), subject, action, since)
        if subject_prefix is not None:
            query = query.where(log.c.subject.startswith(subject_prefix, autoescape=True))
        if limit is not None and limit < 0:
            raise RegistryInputError(f"entries(limit=...) must be 0 or more; got {limit}.")
        if skip < 0:
            raise RegistryInputError(f"entries(skip=...) must be 0 or more; got {skip}.")
        newest_first = limit is not None or skip > 0
        if newest_first:
            query = query.order_by(log.c.seq.desc()).limit(limit).offset(skip or None)
        else:
            query = query.order_by(log.c.seq)
        if conn is not None:
            rows = [entry_of(row) for row in conn.execute(query)]
        else:
            with self.engine.connect() as own:
                rows = [entry_of(row) for row in own.execute(query)]
        return rows[::-1] if newest_first else rows

    def count(self, *, subject: str | None = None, action: str | None = None) -> int:
        """How many entries :meth:`entries` would list with the same filters (one query)."""
        query = self._matching(sa.select(sa.func.count()).select_from(audit_log), subject, action)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def actions(self) -> list[str]:
        """The distinct actions of the log, sorted (one query)."""
        log = audit_log
        query = sa.select(log.c.action).where(log.c.project == self.project).distinct()
        with self.engine.connect() as conn:
            return sorted(str(a) for a in conn.execute(query).scalars())

    def _matching(
        self,
        query: sa.Select[Any],
        subject: str | None,
        action: str | None,
        since: datetime | None = None,
    ) -> sa.Select[Any]:
        log = audit_log
        query = query.where(log.c.project == self.project)
        if subject is not None:
            query = query.where(log.c.subject == subject)
        if action is not None:
            query = query.where(log.c.action == action)
        if since is not None:
            query = query.where(log.c.at >= iso(since))
        return query

    def _signature(self, seq: int, digest: str) -> dict[str, str | None]:
        """The head columns of a new head: signed by the anchor, or NULL (unsigned)."""
        if self.anchor is None:
            return {"algorithm": None, "key_id": None, "signature": None}
        return {
            "algorithm": self.anchor.algorithm,
            "key_id": self.anchor.key_id,
            "signature": self.anchor.sign(head_message(self.project, seq, digest)),
        }

    def _require_signed(self, anchor: Anchor, head: Any) -> None:
        """Refuse to extend a head the anchor cannot verify: signing it would launder a head
        someone moved without the key."""
        status, problems, _ = head_signature(anchor, self.project, dict(head._mapping), head.seq)
        if status not in ("valid", "empty"):
            raise AuditTamperedError(
                f"The chain head of project {self.project!r} cannot be extended: "
                f"{problems[0].message if problems else status}. Nothing is appended until "
                f"this is investigated (run `cairn audit verify`)."
            )

    def verify(
        self,
        *,
        checkpoints: Sequence[Checkpoint] = (),
        reconcile: bool = True,
        incremental: bool = False,
    ) -> AuditVerification:
        """Recompute every hash and link, compare the last entry with the head record, check
        the head's signature (when an ``anchor`` is configured) and each of ``checkpoints``
        (those of other projects are ignored), and, with ``reconcile``, the registry's
        approval and alias tables against their entries (:mod:`cairn.registry.reconcile`).

        With ``incremental``, the entries this log object last verified intact are not hashed
        again when every stored byte of them is unchanged (compared with a fingerprint kept in
        memory, :mod:`cairn.registry._prefix`): only the entries appended since are checked.
        Any change to an old entry, or any problem after them, verifies the whole chain from
        scratch, so the result is always the one a full verification gives (the head
        signature, checkpoints and tables are checked in full either way). For a reader that
        verifies on every view (the dashboard's Audit page); ``cairn audit verify`` verifies
        in full.

        Example
        -------
        >>> import sqlalchemy
        >>> engine = sqlalchemy.create_engine("sqlite://")
        >>> log = AuditLog(engine, "credit")
        >>> for n in range(3):
        ...     _ = log.append("ana", "note", "credit", {"n": n})
        >>> with engine.begin() as conn:
        ...     _ = conn.exec_driver_sql("UPDATE cairn_audit_log SET details='{\\"n\\":9}' "
        ...                              "WHERE seq = 2")
        >>> log.verify().problems
        ['entry 2 was edited (hash mismatch)']
        """
        log, h = audit_log, audit_head
        mine = [c for c in checkpoints if c.project == self.project]
        with read_snapshot(self.engine) as conn:  # entries, head and tables of one moment
            head_row = conn.execute(
                sa.select(h.c.seq, h.c.hash, h.c.algorithm, h.c.key_id, h.c.signature).where(
                    h.c.project == self.project
                )
            ).first()
            rows = conn.execution_options(yield_per=1000).execute(
                sa.select(
                    log.c.seq,
                    log.c.project,
                    log.c.at,
                    log.c.actor,
                    log.c.action,
                    log.c.subject,
                    log.c.details,
                    log.c.prev_hash,
                    log.c.hash,
                )
                .where(log.c.project == self.project)
                .order_by(log.c.seq)
            )
            stored = [StoredEntry(*row) for row in rows]
            head_at = None if head_row is None else (head_row.seq, head_row.hash)
            known = self._verified if incremental else None
            longer = None if known is None else extend(known, stored, head_at)
            reused = 0 if known is None or longer is None else known.count
            findings: list[ChainProblem] = []
            if longer is not None:
                count, last = longer.count, longer.last
            else:
                count, findings, last = classify(stored, head_at)
                if not findings:
                    longer = VerifiedPrefix.of(stored)
            if longer is not None:
                self._verified = longer
            hashes = self._hashes_at(conn, sorted({c.seq for c in mine}))
            mismatches = self._reconcile(conn) if reconcile else []
        head = None if head_row is None else dict(head_row._mapping)
        status, signed, notes = head_signature(self.anchor, self.project, head, count)
        findings = [*findings, *signed]
        if mine or checkpoints:
            found, more = checkpoint_problems(
                mine, hashes, 0 if last is None else last[0], self.anchor
            )
            findings.extend(found)
            notes.extend(more)
            if len(mine) < len(checkpoints):
                notes.append(
                    f"{len(checkpoints) - len(mine)} checkpoint(s) of other projects ignored"
                )
        findings.extend(mismatches)
        if reused:
            notes.append(
                f"entries 1-{reused} unchanged since this process verified them (every stored "
                f"byte compared); the {count - reused} appended since verified now"
            )
        return AuditVerification(
            ok=not findings,
            entries=count,
            problems=[f.message for f in findings],
            findings=findings,
            signing="none" if self.anchor is None else self.anchor.algorithm,
            key_id=None if self.anchor is None else self.anchor.key_id,
            head_signature=status,
            checkpoints=len(mine),
            notes=notes,
        )

    def _hashes_at(self, conn: Connection, seqs: list[int]) -> dict[int, str]:
        log = audit_log
        found: dict[int, str] = {}
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            query = sa.select(log.c.seq, log.c.hash).where(
                log.c.project == self.project, log.c.seq.in_(chunk)
            )
            found.update({row.seq: row.hash for row in conn.execute(query)})
        return found

    def _reconcile(self, conn: Connection) -> list[ChainProblem]:
        """The registry's tables against the chain (rows without their entry, and back)."""
        return [
            ChainProblem("reconcile", m.seq, m.message) for m in reconcile_tables(self, conn=conn)
        ]

    def checkpoint(self) -> Checkpoint:
        """The current head as a :class:`~cairn.registry.checkpoints.Checkpoint`, signed by the
        anchor (unsigned without one), after checking the chain: a broken chain is refused.

        Example
        -------
        >>> import sqlalchemy
        >>> from cairn.registry.anchor import HmacAnchor
        >>> log = AuditLog(sqlalchemy.create_engine("sqlite://"), "credit",
        ...                anchor=HmacAnchor(b"k" * 32))
        >>> _ = log.append("ana", "note", "credit")
        >>> cp = log.checkpoint()
        >>> cp.seq, cp.algorithm, log.verify(checkpoints=[cp]).ok
        (1, 'hmac-sha256', True)
        """
        result = self.verify()
        if not result.ok:
            raise AuditTamperedError(
                f"Refusing to checkpoint the audit log of project {self.project!r}: "
                f"{len(result.problems)} problem(s), the first: {result.problems[0]} "
                f"(run `cairn audit verify`)."
            )
        h = audit_head
        with self.engine.connect() as conn:
            head = conn.execute(
                sa.select(h.c.seq, h.c.hash).where(h.c.project == self.project)
            ).first()
        seq, digest = (0, GENESIS_HASH) if head is None else (head.seq, head.hash)
        return Checkpoint.make(self.project, seq, digest, iso(self.now()), self.anchor)

    def sign_head(
        self, actor: str, reason: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Sign the current head with the anchor's key, then append ``audit.head.signed`` (by
        ``actor``, with ``reason``) on top of it: for turning signing on for an existing log,
        or after a key rotation. Refused when the chain has any problem besides the head's
        signature.
        """
        if self.anchor is None or not self.anchor.can_sign:
            raise AuditKeyError(
                "sign_head needs a signing key: set audit.signing (hmac or ed25519) and its "
                "key_file / key_env."
            )
        reason = require_text("reason", reason, "AuditLog.sign_head", max_len=2000)
        result = self.verify()
        other = [f for f in result.findings if f.kind != "signature"]
        if other:
            raise AuditTamperedError(
                f"Refusing to sign the chain head of project {self.project!r}: the chain has "
                f"{len(other)} other problem(s), the first: {other[0].message}."
            )
        h = audit_head
        where = h.c.project == self.project
        with self.engine.begin() as conn:
            head = conn.execute(
                sa.select(h.c.seq, h.c.hash, h.c.signature, h.c.key_id, h.c.algorithm).where(where)
            ).first()
            if head is None:
                raise RegistryInputError(
                    f"The audit log of project {self.project!r} is empty: nothing to sign."
                )
            previous = {
                "algorithm": head.algorithm,
                "key_id": head.key_id,
                "signed": head.signature is not None,
            }
            conn.execute(
                sa.update(h)
                .where(where, h.c.seq == head.seq, h.c.hash == head.hash)
                .values(**self._signature(head.seq, head.hash))
            )
        payload = {**dict(details or {}), "reason": reason, "head": head.seq, "previous": previous}
        return self.append(actor, "audit.head.signed", f"audit/{self.project}", payload)


def _lost_race(exc: BaseException) -> bool:
    """Another append took the chain head first (a key or head clash), or the database is
    busy with other writers: worth another attempt."""
    return isinstance(exc, (sa.exc.IntegrityError, _HeadMoved)) or is_contention(exc)
