"""Incremental verification (``AuditLog.verify(incremental=True)``, :mod:`cairn.registry._prefix`)
gives exactly what a full verification gives: every attack on an already verified prefix or on
the entries appended since is still caught and named the same way, and an intact chain is
verified with only its new entries hashed.

Each attack of ``test_tamper.py`` is run on rows in memory (the prefix check alone) and through
a real database (SQLite and PostgreSQL), after a first verification remembered the prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cairn.registry import AuditLog
from cairn.registry._classify import classify
from cairn.registry._prefix import VerifiedPrefix, extend
from tests.registry import _attacks as attack
from tests.registry._tamper import sql
from tests.registry.test_tamper import DB, PURE, attacks


@PURE
@given(n=st.integers(2, 25), data=st.data())
def test_no_attack_passes_the_prefix_check(n: int, data: st.DataObject) -> None:
    rows = attack.chain(n)
    verified = data.draw(st.integers(0, n), label="verified")
    what, run = data.draw(attacks(n), label="attack")
    after, head, _ = run(rows)
    assert classify(after, head)[1], what  # the attack is one a full verify names
    assert extend(VerifiedPrefix.of(rows[:verified]), after, head) is None, what


@PURE
@given(n=st.integers(0, 25), data=st.data())
def test_an_intact_chain_extends_its_verified_prefix(n: int, data: st.DataObject) -> None:
    rows = attack.chain(n)
    verified = data.draw(st.integers(0, n), label="verified")
    longer = extend(VerifiedPrefix.of(rows[:verified]), rows, attack.head_of(rows))
    assert longer == VerifiedPrefix.of(rows)


@DB
@given(n=st.integers(2, 9), more=st.integers(0, 3), data=st.data())
def test_every_attack_after_a_verification_is_named_as_in_full(
    engine: Engine, n: int, more: int, data: st.DataObject
) -> None:
    project = f"t_{uuid.uuid4().hex[:12]}"
    log = AuditLog(engine, project, now=_clock())
    for i in range(n):
        log.append("ana", "note", "s", {"i": i})
    assert log.verify(incremental=True).ok  # remembers entries 1..n
    for i in range(more):
        log.append("bo", "note", "s", {"i": n + i})
    what, run = data.draw(attacks(n + more), label="attack")
    rows, _ = attack.read(engine, project)
    after, head, _ = run(rows)
    attack.store(engine, project, after, head)
    incremental = log.verify(incremental=True)
    full = AuditLog(engine, project).verify()
    assert not incremental.ok, what
    assert incremental.problems == full.problems, what


def test_only_entries_appended_since_are_hashed(engine: Engine, project_name: str) -> None:
    log = AuditLog(engine, project_name, now=_clock())
    for i in range(5):
        log.append("ana", "note", "s", {"i": i})
    first = log.verify(incremental=True)
    assert first.ok and first.entries == 5 and not any("unchanged" in n for n in first.notes)
    for i in range(3):
        log.append("bo", "note", "s", {"i": i})
    again = log.verify(incremental=True)
    assert again.ok and again.entries == 8
    assert any(n.startswith("entries 1-5 unchanged") and "the 3 appended" in n for n in again.notes)
    assert log.verify(incremental=True).ok  # nothing new: entries 1-8 compared only


def test_an_old_entry_edited_without_its_hash_is_caught(engine: Engine, project_name: str) -> None:
    """The stored hash (and the head) still match: only the stored bytes show the edit."""
    log = AuditLog(engine, project_name, now=_clock())
    for i in range(6):
        log.append("ana", "note", "s", {"i": i})
    assert log.verify(incremental=True).ok
    log.append("bo", "note", "s", {"i": 6})
    sql(
        engine,
        "UPDATE cairn_audit_log SET actor = 'eve' WHERE project = :p AND seq = 2",
        p=project_name,
    )
    broken = log.verify(incremental=True)
    assert not broken.ok and broken.problems == ["entry 2 was edited (hash mismatch)"]
    sql(
        engine,
        "UPDATE cairn_audit_log SET actor = 'ana' WHERE project = :p AND seq = 2",
        p=project_name,
    )
    assert log.verify(incremental=True).ok  # put back: verified in full, intact again


def test_a_truncated_tail_is_caught(engine: Engine, project_name: str) -> None:
    log = AuditLog(engine, project_name, now=_clock())
    for i in range(4):
        log.append("ana", "note", "s", {"i": i})
    assert log.verify(incremental=True).ok
    sql(engine, "DELETE FROM cairn_audit_log WHERE project = :p AND seq = 4", p=project_name)
    result = log.verify(incremental=True)
    assert not result.ok and result.problems == AuditLog(engine, project_name).verify().problems


def _clock() -> Callable[[], datetime]:
    ticks = iter(range(10_000))
    return lambda: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(ticks))
