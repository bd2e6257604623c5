"""The one retry policy for database contention."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from cairn.metadata.retry import ContentionError, backoff, is_contention, with_retries


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"pg error {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(orig: BaseException) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT ...", {}, orig)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database table is locked: cairn_audit_log"), True),
        (_wrapped(sqlite3.OperationalError("database is locked")), True),
        (_wrapped(_PgError("40001")), True),  # serialization failure
        (_wrapped(_PgError("40P01")), True),  # deadlock
        (_wrapped(_PgError("23505")), False),  # unique violation: not contention
        (sqlite3.OperationalError("no such table: cairn_rollouts"), False),
        (ValueError("bad"), False),
    ],
)
def test_is_contention(exc: BaseException, expected: bool) -> None:
    assert is_contention(exc) is expected


def test_backoff_is_jittered_and_capped() -> None:
    for attempt in range(40):
        assert 0 <= backoff(attempt) <= min(0.05, 0.001 * 2**attempt)


def test_retries_contention_then_returns() -> None:
    pauses: list[float] = []
    outcomes = iter([sqlite3.OperationalError("database is locked")] * 4 + [None])

    def write() -> str:
        exc = next(outcomes)
        if exc is not None:
            raise exc
        return "done"

    assert with_retries(write, what="write", sleep=pauses.append) == "done"
    assert len(pauses) == 4


def test_gives_up_with_one_line_naming_what() -> None:
    pauses: list[float] = []

    def write() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(ContentionError) as info:
        with_retries(write, what="record the run", attempts=3, sleep=pauses.append)
    assert str(info.value) == (
        "Could not record the run: other writers kept the database busy through 3 attempts "
        "(last error: database is locked)."
    )
    assert len(pauses) == 2  # no pause after the last attempt


def test_custom_retry_condition_and_final_error() -> None:
    calls: list[int] = []

    def write() -> None:
        calls.append(1)
        raise KeyError("taken")

    with pytest.raises(TimeoutError, match="gave up after KeyError"):
        with_retries(
            write,
            what="w",
            attempts=5,
            retry_if=lambda e: isinstance(e, KeyError),
            give_up=lambda last: TimeoutError(f"gave up after {type(last).__name__}"),
            sleep=lambda _s: None,
        )
    assert len(calls) == 5


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def write() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("no such table: cairn_rollouts")

    with pytest.raises(sqlite3.OperationalError):
        with_retries(write, what="w", sleep=lambda _s: None)
    assert calls == [1]
    with pytest.raises(ValueError, match="at least 1"):
        with_retries(lambda: None, what="w", attempts=0)
