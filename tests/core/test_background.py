"""PeriodicTask runs at a fixed rate: the next run's start does not move with the last run's
length (a rollout poll then sees a change within one period), and an overrun skips ticks."""

from __future__ import annotations

import threading

import pytest

from cairn.core.background import PeriodicTask, next_due


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [
        (10.0, 10.0, 10.5),  # an instant run: the next tick
        (10.0, 10.49, 10.5),  # a run just shorter than the period: still the next tick
        (10.0, 10.5, 11.0),  # ended on a tick: the one after (never now, never back to back)
        (10.0, 11.2, 11.5),  # overran two ticks: they are skipped
        (10.0, 9.9, 10.5),  # a clock read before the due time (a run that started early)
    ],
)
def test_the_next_run_is_on_the_grid_of_the_first(due: float, now: float, expected: float) -> None:
    assert next_due(due, now, 0.5) == pytest.approx(expected)


def test_a_failing_run_is_logged_and_the_loop_goes_on() -> None:
    runs: list[int] = []
    again = threading.Event()

    def fn() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the first run fails")
        again.set()

    task = PeriodicTask("test", 0.01, fn)
    task.start()
    try:
        assert again.wait(10)
    finally:
        task.stop()
    assert not task.running and len(runs) >= 2
