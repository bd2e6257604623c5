"""Tampering properties: every attack a database writer can make without the signing key is
detected, and the FIRST problem names the entry the attacker touched, with the right kind.

Each attack is run twice: on rows in memory (``find_problems``/``classify``, many examples)
and through a real database (SQLite and PostgreSQL): a chain written by ``AuditLog``, attacked
with raw SQL, checked by ``AuditLog.verify``. A tail cut off with the head moved back is
invisible to the chain alone; ``test_anchor.py`` shows the anchors catch it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cairn.registry import AuditLog
from cairn.registry._classify import ChainProblem, classify
from tests.registry import _attacks as attack

PURE = settings(max_examples=300, deadline=None, derandomize=True)
DB = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
Attack = Callable[[attack.Rows], tuple[attack.Rows, attack.Head, tuple[str, int]]]
"""An attack: the rows -> the rows and head after it, and the (kind, seq) verify must name
first."""


@st.composite
def attacks(draw: st.DrawFn, n: int) -> tuple[str, Attack]:
    """One random attack on a chain of ``n`` entries (n >= 2)."""
    kind = draw(
        st.sampled_from(
            ["edit", "rewrite", "delete", "delete-renumber", "insert", "insert-tail", "swap"]
        )
    )
    k = draw(st.integers(1, n - 1), label="k")  # the entry attacked (never the last: see below)
    if kind == "edit":
        column = draw(st.sampled_from(["at", "actor", "action", "subject", "details", "hash"]))
        value = draw(st.text(st.characters(codec="ascii"), min_size=1, max_size=8))

        def run(rows: attack.Rows) -> Any:
            old = getattr(rows[k - 1], column)
            return (
                attack.edit(rows, k, column, value + ("x" if value == old else "")),
                (attack.head_of(rows)),
                ("edited", k),
            )

        return f"edit {column} of {k}", run
    if kind == "rewrite":
        return f"rewrite {k}", lambda rows: (
            attack.rewrite(rows, k),
            attack.head_of(rows),
            ("edited", k),
        )
    if kind == "delete":
        gone = draw(st.sets(st.integers(1, n - 1), min_size=1), label="deleted")
        return f"delete {sorted(gone)}", lambda rows: (
            attack.delete(rows, gone),
            attack.head_of(rows),
            ("deleted", min(gone)),
        )
    if kind == "delete-renumber":
        move_head = draw(st.booleans(), label="move head")

        def run_delete(rows: attack.Rows) -> Any:
            after = attack.delete_renumbered(rows, k)
            return after, attack.head_of(after if move_head else rows), ("deleted", k)

        return f"delete {k}, renumber, move head={move_head}", run_delete
    if kind in ("insert", "insert-tail"):
        m = draw(st.integers(1, 3), label="m")
        good = draw(st.booleans(), label="good link")
        move_head = kind == "insert" and draw(st.booleans(), label="move head")
        at = k if kind == "insert" else n + 1

        def run_insert(rows: attack.Rows) -> Any:
            after = attack.insert_renumbered(rows, at, m, good_link=good)
            # at the tail without moving the head: the head names the last true entry
            return after, attack.head_of(after if move_head else rows), ("inserted", at)

        return f"insert {m} at {at}, good link={good}, move head={move_head}", run_insert
    j = draw(st.integers(1, n).filter(lambda j: j != k), label="j")
    return f"swap {k} and {j}", lambda rows: (
        attack.swap(rows, k, j),
        attack.head_of(rows),
        ("reordered", min(k, j)),
    )


def _check(found: list[ChainProblem], expected: tuple[str, int], what: str) -> None:
    assert found, f"{what}: not detected"
    first = found[0]
    assert (first.kind, first.seq) == expected, (what, [str(p) for p in found])
    assert re.search(rf"\bentr(y|ies) {expected[1]}\b", first.message), (what, first.message)
    if expected[0] == "inserted":  # the forged entry is named, never its successors
        assert not [p for p in found if p.kind == "reordered"], (what, [str(p) for p in found])


@PURE
@given(n=st.integers(2, 25), data=st.data())
def test_every_attack_is_named_in_memory(n: int, data: st.DataObject) -> None:
    what, run = data.draw(attacks(n), label="attack")
    rows, head, expected = run(attack.chain(n))
    _, found, _ = classify(rows, head)
    _check(found, expected, what)


@DB
@given(n=st.integers(2, 9), data=st.data())
def test_every_attack_is_named_in_the_database(engine: Engine, n: int, data: st.DataObject) -> None:
    project = f"t_{uuid.uuid4().hex[:12]}"
    log = AuditLog(engine, project, now=_clock())
    for i in range(n):
        log.append("ana", "note", "s", {"i": i})
    what, run = data.draw(attacks(n), label="attack")
    rows, _ = attack.read(engine, project)
    after, head, expected = run(rows)
    attack.store(engine, project, after, head)
    result = log.verify()
    assert not result.ok, what
    _check(result.findings, expected, what)
    assert result.problems[0] == result.findings[0].message


@PURE
@given(n=st.integers(2, 25), data=st.data())
def test_a_swap_names_both_entries(n: int, data: st.DataObject) -> None:
    i, j = data.draw(st.lists(st.integers(1, n), min_size=2, max_size=2, unique=True))
    _, found, _ = classify(attack.swap(attack.chain(n), i, j), attack.head_of(attack.chain(n)))
    assert [str(p) for p in found] == [
        f"entry {a} was reordered (it was written as entry {b})"
        for a, b in sorted([(i, j), (j, i)])
    ]


@PURE
@given(n=st.integers(1, 25), data=st.data())
def test_truncation_with_head_rollback_is_invisible_to_the_chain_alone(
    n: int, data: st.DataObject
) -> None:
    """Why anchoring exists: a consistent prefix with a consistent head verifies."""
    keep = data.draw(st.integers(0, n - 1))
    rows, head = attack.truncate(attack.chain(n), keep)
    assert classify(rows, head)[1] == []


@pytest.mark.parametrize(
    ("attack_rows", "expected"),
    [
        (lambda r: attack.insert_renumbered(r, 5, 1, good_link=True), "entry 5 was inserted"),
        (lambda r: attack.insert_renumbered(r, 1, 2, good_link=True), "entries 1-2 were inserted"),
        (lambda r: attack.delete_renumbered(r, 3), "entry 3 was deleted"),
        (lambda r: attack.rewrite(r, 4), "entry 4 was edited or replaced"),
    ],
)
def test_messages_name_the_attacked_entry(
    attack_rows: Callable[[attack.Rows], attack.Rows], expected: str
) -> None:
    rows = attack_rows(attack.chain(8))
    _, found, _ = classify(rows, attack.head_of(rows))
    assert len(found) == 1 and found[0].message.startswith(expected), found


def _clock() -> Callable[[], datetime]:
    ticks = iter(range(10_000))
    return lambda: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(ticks))
