"""Properties of the chain: any appends verify; any single-row edit, any deletion and any
reordering is detected."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cairn.registry import AuditLog
from cairn.registry._chain import GENESIS_HASH, StoredEntry, canonical_json, entry_hash
from cairn.registry._classify import find_problems

DB = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # a new project per example
)
PURE = settings(max_examples=200, deadline=None, derandomize=True)

text = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"),
    min_size=1,
    max_size=20,
).filter(str.strip)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
appends = st.lists(
    st.tuples(text, text, text, st.dictionaries(text, json_value, max_size=3)),
    min_size=1,
    max_size=6,
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _project() -> str:
    return f"h_{uuid.uuid4().hex[:12]}"


def _clock() -> Any:
    ticks = iter(range(10_000))
    return lambda: T0 + timedelta(seconds=next(ticks), microseconds=7)


@DB
@given(calls=appends)
def test_any_appends_verify_and_round_trip(engine: Engine, calls: list[Any]) -> None:
    log = AuditLog(engine, _project(), now=_clock())
    written = [log.append(*call) for call in calls]
    assert log.verify().ok and log.verify().entries == len(calls)
    assert log.entries() == written
    assert [e.details for e in written] == [d for *_, d in calls]


columns = st.sampled_from(["at", "actor", "action", "subject", "details", "prev_hash", "hash"])


@DB
@given(calls=appends, data=st.data(), column=columns, value=text)
def test_any_single_row_edit_is_detected(
    engine: Engine, calls: list[Any], data: st.DataObject, column: str, value: str
) -> None:
    project = _project()
    log = AuditLog(engine, project, now=_clock())
    for call in calls:
        log.append(*call)
    seq = data.draw(st.integers(1, len(calls)), label="seq")
    where = {"p": project, "s": seq}
    with engine.begin() as conn:
        old = conn.execute(
            sa.text(f"SELECT {column} FROM cairn_audit_log WHERE project = :p AND seq = :s"),
            where,
        ).scalar_one()
        if value == old:
            value += "x"
        conn.execute(
            sa.text(f"UPDATE cairn_audit_log SET {column} = :v WHERE project = :p AND seq = :s"),
            {**where, "v": value},
        )
    result = log.verify()
    assert not result.ok
    assert any(re.search(rf"\bentry {seq}\b", p) for p in result.problems), result.problems


def _chain(n: int) -> list[StoredEntry]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        at = (T0 + timedelta(minutes=seq)).isoformat(timespec="microseconds")
        h = entry_hash(seq, "p", at, "ana", "note", "s", {"n": seq}, prev)
        rows.append(
            StoredEntry(seq, "p", at, "ana", "note", "s", canonical_json({"n": seq}), prev, h)
        )
        prev = h
    return rows


_MISSING = re.compile(r"entr(?:y|ies) (\d+)(?:-(\d+))? (?:is|are) missing")


@PURE
@given(n=st.integers(1, 30), data=st.data())
def test_any_deletion_is_detected_and_named(n: int, data: st.DataObject) -> None:
    rows = _chain(n)
    deleted = data.draw(st.sets(st.integers(1, n), min_size=1), label="deleted")
    kept = [r for r in rows if r.seq not in deleted]
    count, problems = find_problems(kept, (n, rows[-1].hash))
    named: set[int] = set()
    for m in _MISSING.finditer(" ".join(problems)):
        named.update(range(int(m[1]), int(m[2] or m[1]) + 1))
    assert count == n - len(deleted) and named == deleted, problems


@PURE
@given(n=st.integers(2, 30), data=st.data())
def test_any_reordering_is_detected_and_named(n: int, data: st.DataObject) -> None:
    rows = _chain(n)
    order = data.draw(st.permutations(range(1, n + 1)), label="new seqs")
    moved = {old: new for old, new in zip(range(1, n + 1), order, strict=True) if old != new}
    if not moved:
        return
    shuffled = sorted(
        (StoredEntry(moved.get(r.seq, r.seq), *list(vars(r).values())[1:]) for r in rows),
        key=lambda r: r.seq,
    )
    _, problems = find_problems(shuffled, (n, rows[-1].hash))
    for old, new in moved.items():
        assert f"entry {new} was reordered (it was written as entry {old})" in problems, problems


@PURE
@given(n=st.integers(0, 30))
def test_an_untouched_chain_verifies(n: int) -> None:
    rows = _chain(n)
    assert find_problems(rows, (n, rows[-1].hash) if rows else None) == (n, [])
