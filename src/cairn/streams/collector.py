"""Pausing CPython's cyclic garbage collector for the length of a micro-batch.

A batch of 10,000 events allocates ~10^5 containers that live until the batch ends (events,
columns, tile states, records for the commit) and then die by reference counting. While they
live, allocations trigger young collections that promote them, and about once a batch the
promoted count crosses the threshold of a *full* collection, which walks every object of the
process (the libraries alone are several 10^5): a tenth of a second per batch, a third of the
processor's time. A batch creates no reference cycles of its own, so nothing is lost by not
collecting during it; the collector resumes after the batch and finds the few survivors.

The pause is process-wide (the collector has one switch), so it is counted: with processors
in several threads, the collector resumes when the last batch ends, and only if it was on when
the first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (re-entrant, thread-safe)."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()
