"""The bounded shadow queue on its own: offer never blocks, overflow is dropped and counted."""

from __future__ import annotations

import threading

import pytest

from cairn.core.predictions import PredictionRecord
from cairn.serving.routing import ShadowJob, ShadowQueue

RECORD = PredictionRecord("p", 0, "credit", "m", "1", {}, {}, 0.1, "approve", 1.0)


def job(rows: int) -> ShadowJob:
    return ShadowJob("credit", ("m@challenger",), [{}] * rows, [RECORD] * rows)


def test_offer_is_bounded_by_rows() -> None:
    dropped: list[int] = []
    queue = ShadowQueue(lambda j: None, maxsize=10, on_drop=lambda j: dropped.append(len(j)))
    assert queue.offer(job(6)) and queue.offer(job(4))
    assert not queue.offer(job(1))
    assert not queue.offer(job(11))
    assert (queue.pending, queue.dropped, dropped) == (10, 12, [1, 11])
    queue.start()
    assert queue.drain()
    assert (queue.pending, queue.done) == (0, 10)
    queue.close()


def test_worker_survives_a_failing_job(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []

    def work(j: ShadowJob) -> None:
        seen.append(len(j))
        if len(j) == 2:
            raise ValueError("bad shadow")

    queue = ShadowQueue(work)
    queue.start()
    for n in (1, 2, 3):
        queue.offer(job(n))
    assert queue.drain()
    queue.close()
    assert seen == [1, 2, 3]
    assert "Shadow scoring failed for deployment credit" in caplog.text


def test_drain_times_out_while_a_job_hangs() -> None:
    release = threading.Event()
    queue = ShadowQueue(lambda j: release.wait(10))
    queue.start()
    queue.offer(job(1))
    assert not queue.drain(timeout=0.05)
    release.set()
    assert queue.drain()
    queue.close()


def test_close_scores_what_is_queued_then_stops() -> None:
    done: list[int] = []
    queue = ShadowQueue(lambda j: done.append(len(j)))
    for n in (1, 2):
        queue.offer(job(n))
    queue.start()
    queue.close()
    assert done == [1, 2]
    queue.start()  # restartable
    queue.offer(job(3))
    assert queue.drain()
    queue.close()
    assert done == [1, 2, 3]


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ShadowQueue(lambda j: None, maxsize=0)
