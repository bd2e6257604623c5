"""The audit log on SQLite and on a real PostgreSQL: growth, tampering, concurrency."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine

from cairn.registry import (
    GENESIS_HASH,
    AuditLog,
    AuditTamperedError,
    RegistryInputError,
)
from cairn.registry._chain import entry_hash
from tests.registry._tamper import row, sql

Clock = Callable[[], datetime]


def _log(engine: Engine, project: str, clock: Clock, n: int = 8) -> AuditLog:
    log = AuditLog(engine, project, now=clock)
    for i in range(1, n + 1):
        log.append("ana" if i % 2 else "bo", "note", f"credit/{i % 3}", {"i": i, "tag": "é"})
    return log


def test_chain_grows_links_and_verifies(engine: Engine, project_name: str, clock: Clock) -> None:
    log = AuditLog(engine, project_name, now=clock)
    assert log.verify().ok and log.verify().entries == 0
    first = log.append("ana", "model.registered", "credit/1", {"run": "r1", "auc": 0.81})
    second = log.append("bo", "review.noted", "credit/1")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert first.at == datetime(2026, 1, 1, tzinfo=UTC)
    assert first.hash == entry_hash(
        1,
        project_name,
        "2026-01-01T00:00:00.000000+00:00",
        "ana",
        "model.registered",
        "credit/1",
        {"auc": 0.81, "run": "r1"},
        GENESIS_HASH,
    )
    assert log.entries() == [first, second]
    assert log.verify().ok and log.verify().entries == 2


def test_each_project_has_its_own_chain(engine: Engine, project_name: str, clock: Clock) -> None:
    a = _log(engine, project_name, clock, 3)
    b = AuditLog(engine, project_name + "_b", now=clock)
    assert b.append("ana", "note", "x").seq == 1
    assert a.verify().entries == 3 and b.verify().entries == 1


def test_entries_filters(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    assert [e.seq for e in log.entries(subject="credit/1")] == [1, 4, 7]
    assert [e.seq for e in log.entries(limit=3)] == [6, 7, 8]
    assert [e.seq for e in log.entries(subject="credit/1", limit=2)] == [4, 7]
    since = datetime(2026, 1, 6, tzinfo=UTC)  # entry 6 is at 2026-01-06
    assert [e.seq for e in log.entries(since=since)] == [6, 7, 8]
    new_york = since.astimezone(timezone(timedelta(hours=-5)))
    assert [e.seq for e in log.entries(since=new_york)] == [6, 7, 8]
    assert log.entries(action="nope") == [] and log.entries(limit=0) == []
    assert log.entries()[0].details == {"i": 1, "tag": "é"}


def test_edited_details_are_named(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    sql(
        engine,
        "UPDATE cairn_audit_log SET details = :d WHERE project = :p AND seq = 5",
        d='{"i":5,"tag":"approved"}',
        p=project_name,
    )
    result = log.verify()
    assert not result.ok and result.entries == 8
    assert result.problems == ["entry 5 was edited (hash mismatch)"]


def test_edited_and_rehashed_entry_breaks_the_next_link(
    engine: Engine, project_name: str, clock: Clock
) -> None:
    log = _log(engine, project_name, clock)
    old = row(engine, project_name, 5)
    details = {"i": 5, "tag": "forged"}
    forged = entry_hash(
        5,
        project_name,
        old["at"],
        old["actor"],
        old["action"],
        old["subject"],
        details,
        old["prev_hash"],
    )
    sql(
        engine,
        "UPDATE cairn_audit_log SET details = :d, hash = :h WHERE project = :p AND seq = 5",
        d=json.dumps(details, separators=(",", ":"), sort_keys=True),
        h=forged,
        p=project_name,
    )
    assert log.verify().problems == [
        "entry 5 was edited or replaced, its hash recomputed (entry 6 links to a different entry 5)"
    ]


def test_whitespace_rewrite_of_details_is_named(
    engine: Engine, project_name: str, clock: Clock
) -> None:
    log = _log(engine, project_name, clock)
    sql(
        engine,
        "UPDATE cairn_audit_log SET details = :d WHERE project = :p AND seq = 2",
        d='{"i": 2, "tag": "é"}',
        p=project_name,
    )
    assert log.verify().problems == ["entry 2 was edited (details were rewritten)"]


def test_deleted_middle_entry_is_a_gap(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    sql(engine, "DELETE FROM cairn_audit_log WHERE project = :p AND seq = 5", p=project_name)
    assert log.verify().problems == ["entry 5 is missing (sequence gap 4 -> 6)"]
    sql(engine, "DELETE FROM cairn_audit_log WHERE project = :p AND seq IN (2, 3)", p=project_name)
    assert log.verify().problems == [
        "entries 2-3 are missing (sequence gap 1 -> 4)",
        "entry 5 is missing (sequence gap 4 -> 6)",
    ]


def test_deleted_first_entry(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    sql(engine, "DELETE FROM cairn_audit_log WHERE project = :p AND seq = 1", p=project_name)
    assert log.verify().problems == ["entry 1 is missing (sequence gap 0 -> 2)"]


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        (7, "the chain head was truncated: entry 8 is missing (the head records entry 8)"),
        (5, "the chain head was truncated: entries 6-8 are missing (the head records entry 8)"),
        (0, "the chain head was truncated: entries 1-8 are missing (the head records entry 8)"),
    ],
)
def test_truncated_tail_is_caught_by_the_head(
    engine: Engine, project_name: str, clock: Clock, keep: int, message: str
) -> None:
    log = _log(engine, project_name, clock)
    sql(
        engine,
        "DELETE FROM cairn_audit_log WHERE project = :p AND seq > :k",
        p=project_name,
        k=keep,
    )
    result = log.verify()
    assert (result.entries, result.problems) == (keep, [message])
    # The log keeps going from the head, so the hole stays visible.
    assert log.append("ana", "note", "x").seq == 9
    assert log.verify().problems == [
        "entries 1-8 are missing (sequence gap 0 -> 9)"
        if keep == 0
        else (
            "entry 8 is missing (sequence gap 7 -> 9)"
            if keep == 7
            else f"entries {keep + 1}-8 are missing (sequence gap {keep} -> 9)"
        )
    ]


def test_forged_row_after_the_head(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    last = row(engine, project_name, 8)
    at = "2026-02-01T00:00:00.000000+00:00"
    forged = entry_hash(9, project_name, at, "eve", "review.noted", "credit/9", {}, last["hash"])
    sql(
        engine,
        "INSERT INTO cairn_audit_log (project, seq, at, actor, action, subject, details, "
        "prev_hash, hash) VALUES (:p, 9, :at, 'eve', 'review.noted', 'credit/9', '{}', "
        ":prev, :h)",
        p=project_name,
        at=at,
        prev=last["hash"],
        h=forged,
    )
    assert log.verify().problems == [
        "entry 9 was inserted after the chain head (the head records entry 8)"
    ]
    with pytest.raises(AuditTamperedError, match="entries after its chain head"):
        log.append("ana", "note", "x")


def test_forged_row_in_the_middle(engine: Engine, project_name: str, clock: Clock) -> None:
    """The attacker renumbers 5..8 to 6..9, forges a valid entry 5 and moves the head."""
    log = _log(engine, project_name, clock)
    for seq in (8, 7, 6, 5):  # one by one: a unique key is checked row by row
        sql(
            engine,
            "UPDATE cairn_audit_log SET seq = :n WHERE project = :p AND seq = :s",
            n=seq + 1,
            s=seq,
            p=project_name,
        )
    prev = row(engine, project_name, 4)["hash"]
    at = row(engine, project_name, 4)["at"]
    forged = entry_hash(5, project_name, at, "eve", "note", "credit/2", {}, prev)
    sql(
        engine,
        "INSERT INTO cairn_audit_log (project, seq, at, actor, action, subject, details, "
        "prev_hash, hash) VALUES (:p, 5, :at, 'eve', 'note', 'credit/2', '{}', :prev, :h)",
        p=project_name,
        at=at,
        prev=prev,
        h=forged,
    )
    sql(engine, "UPDATE cairn_audit_head SET seq = 9 WHERE project = :p", p=project_name)
    assert log.verify().problems == [
        "entry 5 was inserted (entries 5-8 were renumbered to 6-9 to make room; entry 6 links "
        "to entry 4, not to it)"
    ]


def test_forged_row_with_a_bad_link(engine: Engine, project_name: str, clock: Clock) -> None:
    """A forged entry whose own hash is right but whose prev_hash is made up."""
    log = _log(engine, project_name, clock)
    sql(engine, "DELETE FROM cairn_audit_log WHERE project = :p AND seq = 3", p=project_name)
    at = row(engine, project_name, 2)["at"]
    forged = entry_hash(3, project_name, at, "eve", "note", "s", {}, "f" * 64)
    sql(
        engine,
        "INSERT INTO cairn_audit_log (project, seq, at, actor, action, subject, details, "
        "prev_hash, hash) VALUES (:p, 3, :at, 'eve', 'note', 's', '{}', :prev, :h)",
        p=project_name,
        at=at,
        prev="f" * 64,
        h=forged,
    )
    assert log.verify().problems == [
        "entry 3 was inserted in place of the original (its prev_hash does not match entry 2, "
        "and entry 4 does not link to it)"
    ]


def test_swapped_entries_are_named(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    for old, new in ((3, -1), (6, 3), (-1, 6)):
        sql(
            engine,
            "UPDATE cairn_audit_log SET seq = :n WHERE project = :p AND seq = :s",
            n=new,
            s=old,
            p=project_name,
        )
    assert log.verify().problems == [
        "entry 3 was reordered (it was written as entry 6)",
        "entry 6 was reordered (it was written as entry 3)",
    ]


def test_deleted_head_record(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock)
    sql(engine, "DELETE FROM cairn_audit_head WHERE project = :p", p=project_name)
    assert log.verify().problems == ["the chain head record is missing (the log holds 8 entries)"]
    with pytest.raises(AuditTamperedError, match="chain head record is missing"):
        log.append("ana", "note", "x")


def test_rehashed_last_entry_disagrees_with_the_head(
    engine: Engine, project_name: str, clock: Clock
) -> None:
    log = _log(engine, project_name, clock)
    old = row(engine, project_name, 8)
    forged = entry_hash(
        8,
        project_name,
        old["at"],
        "eve",
        old["action"],
        old["subject"],
        {"i": 8, "tag": "é"},
        old["prev_hash"],
    )
    sql(
        engine,
        "UPDATE cairn_audit_log SET actor = 'eve', hash = :h WHERE project = :p AND seq = 8",
        h=forged,
        p=project_name,
    )
    assert log.verify().problems == [
        "the chain head does not match entry 8 (its hash differs: entry 8 was replaced with a "
        "recomputed hash, or the head record was edited)"
    ]


def test_unreadable_details_and_time(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock, 3)
    sql(
        engine,
        "UPDATE cairn_audit_log SET details = 'oops', at = 'yesterday' "
        "WHERE project = :p AND seq = 2",
        p=project_name,
    )
    assert log.verify().problems == ["entry 2 was edited (details are not valid JSON)"]
    with pytest.raises(AuditTamperedError, match="entry 2 .* unreadable time 'yesterday'"):
        log.entries()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda log: log.append("", "note", "s"), "needs actor as a non-empty string"),
        (lambda log: log.append("ana", " ", "s"), "needs action as a non-empty string"),
        (lambda log: log.append("ana", "a", "s" * 513), "at most 512 characters"),
        (lambda log: log.append("ana", "a", "s", {"t": datetime.now(UTC)}), "only JSON values"),
        (lambda log: log.append("ana", "a", "s", {"x": float("nan")}), "no NaN"),
        (lambda log: log.entries(limit=-1), "must be 0 or more"),
        (lambda log: log.entries(since=datetime(2026, 1, 1)), "must be timezone-aware"),
    ],
)
def test_bad_arguments_are_named(
    engine: Engine, project_name: str, call: Callable[[AuditLog], object], message: str
) -> None:
    log = AuditLog(engine, project_name)
    with pytest.raises(RegistryInputError, match=message):
        call(log)
    assert log.verify().entries == 0


def test_naive_clock_is_refused(engine: Engine, project_name: str) -> None:
    log = AuditLog(engine, project_name, now=lambda: datetime(2026, 1, 1))
    with pytest.raises(RegistryInputError, match="timezone-aware"):
        log.append("ana", "note", "s")


def test_concurrent_threads_never_fork_the_chain(engine: Engine, project_name: str) -> None:
    threads, per_thread = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        log = AuditLog(engine, project_name)
        start.wait()
        try:
            for i in range(per_thread):
                log.append(f"user{t}", "note", f"t{t}", {"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    log = AuditLog(engine, project_name)
    result = log.verify()
    assert result.ok, result.problems
    entries = log.entries()
    assert [e.seq for e in entries] == list(range(1, threads * per_thread + 1))
    for t in range(threads):
        assert [e.details["i"] for e in entries if e.subject == f"t{t}"] == list(range(per_thread))


_APPENDER = """
import sys
from cairn.metadata import MetadataStore
from cairn.registry import AuditLog
url, project, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
log = AuditLog(MetadataStore(url).engine, project)
print("ready", flush=True)
sys.stdin.readline()  # the parent releases every process at once
for i in range(n):
    log.append(name, "note", name, {"i": i})
"""


def test_concurrent_processes_never_fork_the_chain(metadata_url: str, project_name: str) -> None:
    from cairn.metadata import MetadataStore

    store = MetadataStore(metadata_url)
    procs, n = 2, 60
    running = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, metadata_url, project_name, f"proc{k}", str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(procs)
    ]
    for p in running:  # imports done, engine open: only the appends are left
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in running:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in running:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    log = AuditLog(store.engine, project_name)
    result = log.verify()
    assert result.ok and result.entries == procs * n, result.problems
    entries = log.entries()
    for k in range(procs):
        assert [e.details["i"] for e in entries if e.actor == f"proc{k}"] == list(range(n))
    actors = [e.actor for e in entries]
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    assert switches >= 1  # both wrote while the other did (not one after the other)
    store.close()
