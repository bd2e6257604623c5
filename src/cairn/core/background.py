"""Background loops with a lifecycle: started and stopped by their owner, never orphaned.

A :class:`PeriodicTask` runs a callable every ``seconds`` on its own thread between
:meth:`~PeriodicTask.start` and :meth:`~PeriodicTask.stop`, at a fixed rate: a run starts every
``seconds`` whatever the previous one took (:func:`next_due`), so a server's rollout poll sees a
change within one period of it, not one period plus the length of the last poll. ``stop``
wakes the thread at once and joins it, so a server's lifespan (or a test) ends with no thread
left behind. A failing run is logged and the loop goes on (the next run may succeed: a database
back up, a model loaded).

Example
-------
>>> runs = []
>>> task = PeriodicTask("demo", 0.01, lambda: runs.append(1))
>>> task.start(); task.running
True
>>> import time; time.sleep(0.05)
>>> task.stop(); task.running, len(runs) > 0
(False, True)
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger("cairn")


class Lifecycle(Protocol):
    """Something started when its owner starts and stopped when it stops."""

    def start(self) -> None:
        """Begin (idempotent)."""
        ...

    def stop(self) -> None:
        """End and release every thread (idempotent)."""
        ...


class PeriodicTask:
    """Runs ``fn`` every ``seconds`` (first run one period after :meth:`start`).

    Parameters
    ----------
    name:
        The thread's name (``cairn-<name>``) and the logger's subject.
    seconds:
        The period; above 0.
    fn:
        What to run; an exception is logged and the loop continues.
    """

    def __init__(self, name: str, seconds: float, fn: Callable[[], object]) -> None:
        if not seconds > 0:
            raise ValueError(f"PeriodicTask {name!r}: seconds must be above 0; got {seconds!r}.")
        self.name = name
        self.seconds = seconds
        self.fn = fn
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the loop (idempotent)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"cairn-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop and wait up to ``timeout`` seconds for a run in progress to end."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("%s did not stop within %.0f s", thread.name, timeout)

    def _loop(self) -> None:
        due = time.monotonic() + self.seconds
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            try:
                self.fn()
            except Exception:  # keep the loop alive: the next run may succeed
                logger.exception("Background task %s failed", self.name)
            due = next_due(due, time.monotonic(), self.seconds)


def next_due(due: float, now: float, seconds: float) -> float:
    """When the run after the one due at ``due`` starts, if it ended at ``now``: the first tick
    of ``due + k * seconds`` (k >= 1) after ``now``. A run longer than the period skips the
    ticks it overran instead of being followed by runs back to back.

    Example
    -------
    >>> next_due(10.0, 10.3, 1.0)  # a 0.3 s run: the next one starts at 11, not 11.3
    11.0
    >>> next_due(10.0, 12.5, 1.0)  # a 2.5 s run: 11 and 12 are skipped
    13.0
    """
    missed = max(0, math.floor((now - due) / seconds))
    return due + (missed + 1) * seconds
