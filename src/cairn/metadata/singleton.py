"""Singletons: one process of a kind acts for a project, the others stand by.

The canary controller (``cairn deploy watch``) and the retraining controller (``cairn retrain
watch``) must act alone: two of them would judge the same canary or train the same run twice.
Each holds a named :func:`~cairn.metadata.run_lock.run_lock` of the project's metadata database
for as long as it acts: a PostgreSQL session-level advisory lock, or an exclusive ``flock``
beside an SQLite database file. The lock dies with its holder's connection or process, so
after a ``kill -9`` a standby polling for it takes over within a poll (``poll_s``).

A PostgreSQL lock can also die while its holder lives: the server restarted the backend, the
network was cut, ``pg_terminate_backend``. A leader therefore asks before each turn whether
it still holds its lock (one query on the lock's own connection): when it does not, it stops
acting, says so once (``on_lost``) and stands by again, waiting for the lock on a new
connection.

* :func:`leadership` — hold the lock until told to stop, waiting for it as long as it takes
  (a watcher): ``on_standby`` is called once when another process holds it;
* :func:`lead` — a watcher's whole loop: wait for the lock, then check it, evaluate, report
  and pause until told to stop (back to waiting when the lock was lost);
* :func:`turn` — hold it for one evaluation (``--once``, a scheduler's call), waiting at most
  ``wait_s`` seconds: yields False, not holding it, when another process kept it.

Example
-------
>>> import sqlalchemy as sa
>>> engine = sa.create_engine("sqlite://")
>>> with turn(engine, "cairn-canary:demo", wait_s=0) as held:
...     with turn(engine, "cairn-canary:demo", wait_s=0) as again:
...         held, again
(True, False)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.metadata.run_lock import Hold, hold_lock, run_lock

__all__ = ["POLL_S", "RETRY_S", "STANDBY_AFTER_S", "lead", "leadership", "turn"]

logger = logging.getLogger(__name__)

Step = TypeVar("Step")

POLL_S = 0.2
"""Seconds between a standby's tries for the lock (its takeover delay after a kill -9)."""
STANDBY_AFTER_S = 0.5
"""Seconds without the lock after which a process says it stands by."""
RETRY_S = 1.0
"""Seconds between a waiting process's tries when the database cannot be reached, and before
a leader that lost its lock tries again (a standby polling every :data:`POLL_S` takes it
first)."""


@contextmanager
def leadership(
    engine: Engine,
    name: str,
    stop: threading.Event,
    *,
    on_standby: Callable[[], None] | None = None,
    poll_s: float = POLL_S,
    standby_after_s: float = STANDBY_AFTER_S,
) -> Iterator[Hold]:
    """Hold the singleton lock ``name`` of ``engine``'s database, waiting for it until ``stop``
    is set.

    Yields the :class:`~cairn.metadata.run_lock.Hold`: ``held`` True holding it (until the
    block ends, or until :meth:`~cairn.metadata.run_lock.Hold.alive` says it was lost), or
    False, not holding it, when ``stop`` was set first. ``on_standby`` is called once (from a
    timer thread) when the lock was not taken within ``standby_after_s`` seconds: another
    process holds it.

    Example
    -------
    >>> stop = threading.Event()
    >>> with leadership(sa.create_engine("sqlite://"), "cairn-retrain:demo", stop) as hold:
    ...     hold.held, hold.alive()
    (True, True)
    """
    taken = threading.Lock()
    held_now = threading.Event()

    def standby() -> None:
        with taken:  # never after the lock was taken: "standing by" always comes first
            if on_standby is not None and not held_now.is_set() and not stop.is_set():
                on_standby()

    timer = threading.Timer(standby_after_s, standby)
    timer.daemon = True
    timer.start()
    try:
        with hold_lock(engine, name, stop=stop, poll_s=poll_s) as hold:
            with taken:
                if hold.held:
                    held_now.set()
            timer.cancel()
            yield hold
    finally:
        timer.cancel()


def lead(
    engine: Engine,
    name: str,
    stop: threading.Event,
    *,
    evaluate: Callable[[], Sequence[Step]],
    pause: Callable[[], float],
    on_steps: Callable[[list[Step]], None] | None = None,
    on_standby: Callable[[], None] | None = None,
    on_active: Callable[[], None] | None = None,
    on_lost: Callable[[], None] | None = None,
) -> bool:
    """Wait for the singleton lock ``name`` (:func:`leadership`), then until ``stop`` is set:
    check that the lock is still held, ``evaluate``, hand its steps (when there are any) to
    ``on_steps``, wait ``pause()`` seconds. ``on_active`` is called each time the lock is
    taken. When the check finds the lock lost (its PostgreSQL connection ended), nothing more
    is evaluated: ``on_lost`` is called once and, after :data:`RETRY_S` seconds (a standby
    takes the lock first), the process waits for the lock again, as a standby
    (``on_standby``), on a new connection; a database it cannot reach while waiting
    is tried again every :data:`RETRY_S` seconds. Returns False when ``stop`` was set before
    the lock was ever taken. ``evaluate`` and ``pause`` handle their own errors (a watcher
    decides which failures it outlives).

    Example
    -------
    >>> stop, seen = threading.Event(), []
    >>> def once() -> list[str]:
    ...     stop.set()
    ...     return ["judged"]
    >>> lead(sa.create_engine("sqlite://"), "cairn-canary:demo", stop, evaluate=once,
    ...      pause=lambda: 0.0, on_steps=seen.extend), seen
    (True, ['judged'])
    """
    led = False
    while not stop.is_set():
        with ExitStack() as stack:
            try:
                hold = stack.enter_context(leadership(engine, name, stop, on_standby=on_standby))
            except sa.exc.OperationalError as exc:  # the database is unreachable: try again
                logger.warning("Waiting for the lock %s: %s", name, exc.orig or exc)
                stop.wait(RETRY_S)
                continue
            if not hold.held:
                return led
            led = True
            if on_active is not None:
                on_active()
            while not stop.is_set():
                if not hold.alive():
                    logger.warning("Lost the lock %s (its database connection ended)", name)
                    if on_lost is not None:
                        on_lost()
                    stop.wait(RETRY_S)  # the standbys first: this process's connection failed
                    break
                steps = list(evaluate())
                if on_steps is not None and steps:
                    on_steps(steps)
                stop.wait(pause())
    return led


@contextmanager
def turn(engine: Engine, name: str, *, wait_s: float, poll_s: float = POLL_S) -> Iterator[bool]:
    """Hold the singleton lock ``name`` for one block, waiting at most ``wait_s`` seconds
    (0: one try). Yields True holding it, False (not holding it) when another process kept
    it that long."""
    stop = threading.Event()
    timer = threading.Timer(max(wait_s, 0.0), stop.set)
    timer.daemon = True
    timer.start()
    try:
        with run_lock(engine, name, stop=stop, poll_s=poll_s) as held:
            timer.cancel()
            yield held
    finally:
        timer.cancel()
