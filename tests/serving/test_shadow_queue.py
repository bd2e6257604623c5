"""The bounded shadow queue on its own: offer never blocks, overflow is dropped and counted."""

from __future__ import annotations

import os
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
    assert done == [3]  # both jobs, merged into one call
    queue.start()  # restartable
    queue.offer(job(3))
    assert queue.drain()
    queue.close()
    assert done == [3, 3] and queue.done == 6


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ShadowQueue(lambda j: None, maxsize=0)


def test_queued_jobs_of_one_deployment_are_scored_together() -> None:
    sizes: list[int] = []
    queue = ShadowQueue(lambda j: sizes.append(len(j)))
    for n in (1, 2, 3):
        queue.offer(job(n))
    queue.offer(ShadowJob("fraud", ("m@challenger",), [{}], [RECORD]))
    queue.start()
    assert queue.drain()
    queue.close()
    assert sizes == [6, 1] and queue.done == 7


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread priority is POSIX-only")
def test_the_worker_runs_nicer_than_the_request_path() -> None:
    nice: list[int] = []
    queue = ShadowQueue(
        lambda j: nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    )
    queue.start()
    queue.offer(job(1))
    assert queue.drain()
    queue.close()
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert nice == [min(19, here + 10)]
