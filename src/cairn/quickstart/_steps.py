"""Timed, announced steps of the quickstart and its demos."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Steps:
    """Record how long each named step takes, announcing it first.

    Example
    -------
    >>> seen = []
    >>> steps = Steps(seen.append)
    >>> with steps("load"):
    ...     pass
    >>> seen, [name for name, _ in steps.done]
    (['load'], ['load'])
    """

    def __init__(
        self,
        on_step: Callable[[str], None] | None = None,
        done: list[tuple[str, float]] | None = None,
    ) -> None:
        self.on_step = on_step
        self.done: list[tuple[str, float]] = [] if done is None else done
        """(name, seconds) of every finished step, in order."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.on_step:
            self.on_step(name)
        began = time.perf_counter()
        yield
        self.done.append((name, time.perf_counter() - began))
