"""The one retry policy for database contention.

Two writers of the metadata database can collide: SQLite answers ``database is locked`` (or
``busy``) when its single write lock stays taken past the busy timeout, PostgreSQL aborts one
transaction of a serialization failure (SQLSTATE ``40001``) or a deadlock (``40P01``). Both
are worth another try after a short, jittered pause; any other error is not.
:func:`is_contention` tells them apart and :func:`with_retries` runs the loop, so every store
retries the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from cairn.core.errors import CairnError

__all__ = ["ContentionError", "backoff", "is_contention", "with_retries"]

T = TypeVar("T")

_CONTENTION_STATES = frozenset({"40001", "40P01"})
_CONTENTION_WORDS = ("is locked", "is busy")  # SQLITE_BUSY, SQLITE_LOCKED (table, schema)


class ContentionError(CairnError, TimeoutError):
    """A database write still collided with other writers after every retry."""


def is_contention(exc: BaseException) -> bool:
    """Whether ``exc`` is a database telling a writer to try again later.

    SQLite's ``database is locked`` / ``busy``, PostgreSQL's serialization failure
    (``40001``) and deadlock (``40P01``), raised by the driver or wrapped by SQLAlchemy.

    Example
    -------
    >>> import sqlite3
    >>> is_contention(sqlite3.OperationalError("database is locked"))
    True
    >>> is_contention(sqlite3.OperationalError("no such table: cairn_rollouts"))
    False
    """
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy's DBAPIError wraps the driver's
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _CONTENTION_STATES:
        return True
    text = str(orig).lower()
    return any(word in text for word in _CONTENTION_WORDS)


def backoff(attempt: int, *, base_s: float = 0.001, cap_s: float = 0.05) -> float:
    """The pause before retry ``attempt + 1``: uniform in ``[0, min(cap_s, base_s * 2**attempt)]``
    ("full jitter", so colliding writers spread out instead of colliding again).

    Example
    -------
    >>> 0 <= backoff(0) <= 0.001, 0 <= backoff(30) <= 0.05
    (True, True)
    """
    return random.uniform(0, min(cap_s, base_s * 2 ** min(attempt, 30)))


def with_retries(
    fn: Callable[[], T],
    *,
    what: str,
    attempts: int = 50,
    retry_if: Callable[[BaseException], bool] = is_contention,
    give_up: Callable[[BaseException], BaseException] | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Call ``fn`` until it returns, retrying (after :func:`backoff`) while it raises an error
    that ``retry_if`` accepts; any other error propagates at once.

    Parameters
    ----------
    fn:
        One attempt; it must leave nothing half-done when it raises (one transaction).
    what:
        What is being done, for the final error (``"append to the audit log of 'p'"``).
    attempts:
        How many calls at most (1 or more).
    retry_if:
        Which errors are worth another attempt (default: :func:`is_contention`).
    give_up:
        Builds the error raised when every attempt failed, from the last one; default a
        :class:`ContentionError` naming ``what``.
    sleep:
        How to pause (tests pass a recorder).

    Example
    -------
    >>> import sqlite3
    >>> calls = []
    >>> def write() -> str:
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise sqlite3.OperationalError("database is locked")
    ...     return "written"
    >>> with_retries(write, what="write", sleep=lambda s: None), len(calls)
    ('written', 3)
    >>> with_retries(lambda: 1 / 0, what="divide")
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    """
    if attempts < 1:
        raise ValueError(f"with_retries attempts must be at least 1; got {attempts}.")
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if not retry_if(exc):
                raise
            last: BaseException = exc
        if attempt + 1 < attempts:
            sleep(backoff(attempt))
    if give_up is not None:
        raise give_up(last)
    raise ContentionError(
        f"Could not {what}: other writers kept the database busy through {attempts} attempts "
        f"(last error: {_first_line(last)})."
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
