"""Alias history: moves, "which version at time T", names, audit entries."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine

from cairn.registry import (
    AliasHistory,
    AliasMove,
    AuditLog,
    GovernanceError,
    RegistryInputError,
    validate_alias,
)
from tests.registry._principals import deployer, viewer
from tests.registry._tamper import sql


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


@pytest.fixture
def aliases(engine: Engine, project_name: str) -> AliasHistory:
    times = iter([_at(1, 10), _at(2, 1), _at(2, 20), _at(3, 5), _at(3, 5), _at(4, 1)])
    return AliasHistory(
        engine, project_name, AuditLog(engine, project_name), now=lambda: next(times)
    )


def _moves(aliases: AliasHistory) -> None:
    bo, cy = deployer("bo"), deployer("cy")
    aliases.record("credit", "champion", "1", principal=bo, reason="MRR-2026-0100")  # 01-10
    aliases.record("credit", "challenger", "2", principal=bo, reason="A/B test")  # 02-01
    aliases.record("credit", "champion", "2", principal=cy, reason="MRR-2026-0120")  # 02-20
    aliases.record("credit", "champion", "3", principal=cy, reason="MRR-2026-0130")  # 03-05
    aliases.record("credit", "champion", "2", principal=cy, reason="rollback: 3 misbehaves")
    aliases.record("credit", "challenger", None, principal=bo, reason="test over")  # 04-01


def test_which_version_was_champion_when(aliases: AliasHistory) -> None:
    _moves(aliases)
    champion = [
        (_at(1, 1), None),
        (_at(1, 10) - timedelta(microseconds=1), None),
        (_at(1, 10), "1"),
        (_at(2, 19), "1"),
        (_at(3, 1), "2"),
        (_at(3, 5), "2"),  # moved to 3 and rolled back at the same instant: the last move wins
        (_at(12, 31), "2"),
    ]
    for when, version in champion:
        assert aliases.at("credit", "champion", when) == version, when
    assert aliases.at("credit", "challenger", _at(3, 1)) == "2"
    assert aliases.at("credit", "challenger", _at(4, 2)) is None
    assert aliases.current("credit", "champion") == "2"
    assert aliases.current("credit", "challenger") is None
    assert aliases.current("credit", "fallback") is None
    assert aliases.current("other", "champion") is None
    new_york = (_at(2, 19) + timedelta(hours=23)).astimezone(timezone(timedelta(hours=-5)))
    assert aliases.at("credit", "champion", new_york) == "1"


def test_history_records_previous_and_who(aliases: AliasHistory) -> None:
    _moves(aliases)
    history = aliases.history("credit", "champion")
    assert [(m.previous, m.version, m.actor) for m in history] == [
        (None, "1", "bo"),
        ("1", "2", "cy"),
        ("2", "3", "cy"),
        ("3", "2", "cy"),
    ]
    assert history[0] == AliasMove(
        "credit", "champion", "1", None, "bo", "MRR-2026-0100", _at(1, 10), audit_seq=1
    )
    assert [m.alias for m in aliases.history("credit")] == [
        "champion",
        "challenger",
        "champion",
        "champion",
        "champion",
        "challenger",
    ]
    removed = aliases.history("credit", "challenger")[-1]
    assert (removed.version, removed.previous) == (None, "2")


def test_moves_are_audited(aliases: AliasHistory) -> None:
    _moves(aliases)
    entries = aliases.audit.entries(subject="credit@champion")
    assert [e.details["version"] for e in entries] == ["1", "2", "3", "2"]
    assert entries[1].details == {
        "model": "credit",
        "alias": "champion",
        "version": "2",
        "previous": "1",
        "reason": "MRR-2026-0120",
        "principal": {"name": "cy", "role": "deployer", "via": "token:tk_cy"},
    }
    assert {e.action for e in entries} == {"alias.moved"} and entries[1].actor == "cy"
    assert aliases.audit.verify().ok


@pytest.mark.parametrize(
    "name", ["champion", "fallback", "challenger", "challenger-lgbm", "challenger-a_b-2"]
)
def test_allowed_alias_names(name: str) -> None:
    assert validate_alias(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Champion",
        "latest",
        "v1",
        "challenger-",
        "challenger_x",
        "challenger-X",
        "challenger--x",
        "challenger-x y",
        "champion ",
        "challenger-" + "x" * 60,
    ],
)
def test_invalid_alias_names(aliases: AliasHistory, name: str) -> None:
    with pytest.raises(RegistryInputError, match="is not allowed: use champion, fallback"):
        aliases.record("credit", name, "1", principal=deployer("bo"), reason="r")
    with pytest.raises(RegistryInputError):
        aliases.current("credit", name)
    assert aliases.history("credit") == []


def test_actor_role_reason_and_time_are_required(aliases: AliasHistory) -> None:
    with pytest.raises(GovernanceError, match="needs a named actor"):
        aliases.record("credit", "champion", "1", principal=deployer(" "), reason="r")
    with pytest.raises(PermissionError, match=r"bo \(viewer\) may not move credit@champion"):
        aliases.record("credit", "champion", "1", principal=viewer("bo"), reason="r")
    with pytest.raises(GovernanceError, match="needs a reason"):
        aliases.record("credit", "champion", "1", principal=deployer("bo"), reason="")
    with pytest.raises(RegistryInputError, match="must be timezone-aware"):
        aliases.at("credit", "champion", datetime(2026, 3, 1))
    assert aliases.audit.entries() == []


def test_concurrent_moves_each_see_the_one_before(engine: Engine, project_name: str) -> None:
    audit = AuditLog(engine, project_name)
    workers, per_worker = 4, 10
    start = threading.Barrier(workers)

    def work(w: int) -> None:
        history = AliasHistory(engine, project_name, audit)
        start.wait()
        for i in range(per_worker):
            history.record(
                "credit", "champion", f"{w}.{i}", principal=deployer(f"u{w}"), reason="race"
            )

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    moves = AliasHistory(engine, project_name, audit).history("credit", "champion")
    assert len(moves) == workers * per_worker
    assert [m.previous for m in moves] == [None, *[m.version for m in moves[:-1]]]
    assert audit.verify().ok


def test_history_is_read_from_the_chain_not_the_table(
    aliases: AliasHistory, engine: Engine, project_name: str
) -> None:
    """A move written into cairn_alias_moves by SQL is no move: the chain is the record."""
    _moves(aliases)
    sql(
        engine,
        "INSERT INTO cairn_alias_moves (project, model, alias, version, previous, actor, reason,"
        " at) VALUES (:p, 'credit', 'champion', '9', '2', 'mallory', 'forged', :at)",
        p=project_name,
        at=_at(5, 1),
    )
    assert aliases.current("credit", "champion") == "2"
    assert "9" not in [m.version for m in aliases.history("credit")]
    assert [m.audit_seq for m in aliases.history("credit", "champion")] == [1, 3, 4, 5]
