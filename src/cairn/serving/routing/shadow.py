"""Shadow scoring off the request path: a bounded queue and one worker thread.

After the primary answer is logged, the predictor offers the request's rows to the queue and
returns at once. The worker scores them with each shadow model and logs the scores under the
primaries' prediction ids. A full queue drops the job and counts it: an offer never blocks.
The worker merges queued requests into one model call and runs at a lower CPU priority
(Linux: a per-thread nice), so under load the kernel gives the request path the CPU first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cairn.core.deployments import Decisions
from cairn.core.predictions import PredictionRecord
from cairn.serving.models import ScoringModel
from cairn.serving.protocols import FeatureReader

logger = logging.getLogger("cairn.serving")
DEFAULT_MAXSIZE = 10_000
"""Rows the shadow queue holds before it drops."""
NICE = 10
"""How much nicer than the request path the shadow worker thread runs (Linux, per thread)."""
BATCH = 256
"""Rows the worker scores in one model call at most (queued requests are merged)."""


@dataclass(frozen=True)
class ShadowJob:
    """The rows of one answered request, for its deployment's shadow models.

    Parameters
    ----------
    deployment:
        The deployment the rows were answered for.
    models:
        The shadow model references to score them with.
    inputs:
        Per row, the feature values the primary read (column -> value).
    records:
        The primary records, same order (their prediction ids link the shadow rows).
    """

    deployment: str
    models: tuple[str, ...]
    inputs: Sequence[dict[str, Any]]
    records: Sequence[PredictionRecord]

    def __len__(self) -> int:
        return len(self.records)


class ShadowQueue:
    """A queue of at most ``maxsize`` rows, worked by one daemon thread.

    Parameters
    ----------
    work:
        Scores and logs one job (called on the worker thread; exceptions are logged).
    maxsize:
        Rows held at most; an offer that does not fit is dropped.
    on_drop:
        Called with each dropped job (e.g. to count it in Prometheus).

    Example
    -------
    >>> rec = PredictionRecord("p1", 0, "credit", "m", "1", {}, {}, 0.1, "approve", 1.0)
    >>> done = []
    >>> queue = ShadowQueue(lambda job: done.append(len(job)), maxsize=1)
    >>> queue.offer(ShadowJob("credit", ("m@challenger",), [{}], [rec]))
    True
    >>> queue.offer(ShadowJob("credit", ("m@challenger",), [{}], [rec]))  # full: dropped
    False
    >>> queue.start()
    >>> queue.drain()
    True
    >>> queue.close()
    >>> done, queue.dropped
    ([1], 1)
    """

    def __init__(
        self,
        work: Callable[[ShadowJob], None],
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        on_drop: Callable[[ShadowJob], None] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"The shadow queue's maxsize must be at least 1; got {maxsize}.")
        self.work = work
        self.maxsize = maxsize
        self.on_drop = on_drop
        self.dropped = 0
        self.done = 0
        self._jobs: deque[ShadowJob] = deque()
        self._rows = 0
        self._busy = False
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Rows waiting to be scored."""
        return self._rows

    def offer(self, job: ShadowJob) -> bool:
        """Queue ``job`` unless it does not fit (then drop and count it); never blocks."""
        with self._cond:
            fits = self._rows + len(job) <= self.maxsize
            if fits:
                self._jobs.append(job)
                self._rows += len(job)
                self._cond.notify()
            else:
                self.dropped += len(job)
        if not fits and self.on_drop is not None:
            self.on_drop(job)
        return fits

    def start(self) -> None:
        """Start the worker (idempotent)."""
        with self._cond:
            self._stop = False
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="cairn-shadow", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:  # Linux: a nicer shadow thread yields the CPU to the request path under load
            tid = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE)
            )
        except (AttributeError, OSError):
            pass
        while True:
            with self._cond:
                while not self._jobs and not self._stop:
                    self._cond.wait()
                if not self._jobs:
                    return
                job = self._take()
                self._busy = True
            try:
                self.work(job)
            except Exception:  # a failing shadow model must not stop the worker
                logger.exception("Shadow scoring failed for deployment %s", job.deployment)
            finally:
                with self._cond:
                    self.done += len(job)
                    self._busy = False
                    self._cond.notify_all()

    def _take(self) -> ShadowJob:
        """The next job, merged with the queued jobs behind it for the same deployment and
        models (up to :data:`BATCH` rows): one matrix and one model call for many requests."""
        job = self._jobs.popleft()
        self._rows -= len(job)
        if not self._jobs or len(job) >= BATCH:
            return job
        inputs, records = list(job.inputs), list(job.records)
        while self._jobs and len(records) + len(self._jobs[0]) <= BATCH:
            nxt = self._jobs[0]
            if (nxt.deployment, nxt.models) != (job.deployment, job.models):
                break
            self._jobs.popleft()
            self._rows -= len(nxt)
            inputs += nxt.inputs
            records += nxt.records
        return ShadowJob(job.deployment, job.models, inputs, records)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job is scored; False if ``timeout`` seconds pass first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Score what is queued (up to ``timeout`` seconds), then stop the worker."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def shadow_records(
    job: ShadowJob,
    ref: str,
    model: ScoringModel,
    threshold: float,
    reader: FeatureReader,
    decisions: Decisions | None = None,
) -> list[PredictionRecord]:
    """The scores of shadow model ``model`` (reference ``ref``) on a job's rows, as records
    linked to the primaries: same ``prediction_id``, ``shadow`` true, arm ``shadow:<ref>``.

    The model scores the primary's inputs; online features only it reads are read now (on the
    worker thread, never on the request path). Each score makes the deployment's decision at
    ``threshold`` (``decisions``: its vocabulary; default credit's ``decline``/``approve``).

    Example
    -------
    >>> import numpy as np
    >>> class Half:
    ...     def predict(self, X, **_):
    ...         return np.full(len(X), 0.5)
    >>> m = ScoringModel("m", "2", Half(), ["x"], [None])
    >>> rec = PredictionRecord("p1", 0, "credit", "m", "1", {}, {"x": 1.0}, 0.1, "approve", 1.0)
    >>> job = ShadowJob("credit", ("m@challenger",), [{"x": 1.0}], [rec])
    >>> [(r.prediction_id, r.arm, r.model_version, r.decision, r.shadow)
    ...  for r in shadow_records(job, "m@challenger", m, 0.5, lambda *a: {})]
    [('p1', 'shadow:m@challenger', '2', 'decline', True)]
    >>> outreach = Decisions("follow_up", "skip", favorable="positive")
    >>> [(r.decision, r.positive) for r in shadow_records(
    ...     job, "m@challenger", m, 0.6, lambda *a: {}, outreach)]
    [('skip', False)]
    """
    decisions = decisions or Decisions()
    began = time.perf_counter()
    inputs = _inputs(job, model, reader)
    scores = model.score(model.matrix(inputs)).tolist()
    latency = round((time.perf_counter() - began) * 1000, 3)
    now = time.time_ns() // 1000
    return [
        replace(
            primary,
            time=now,
            arm=f"shadow:{ref}",
            model_name=model.name,
            model_version=model.version,
            features={f: values.get(f) for f in model.features},
            score=float(score),
            decision=decisions.of(score, threshold),
            positive=score >= threshold,
            latency_ms=latency,
            reason_codes=[],
            explained=False,
            shadow=True,
            error=None,
        )
        for primary, values, score in zip(job.records, inputs, scores, strict=True)
    ]


def _inputs(job: ShadowJob, model: ScoringModel, reader: FeatureReader) -> list[dict[str, Any]]:
    have = job.inputs[0].keys() if job.inputs else set()
    missing = [r for f, r in zip(model.features, model.refs, strict=True) if r and f not in have]
    if not missing:
        return list(job.inputs)
    values = dict(reader(missing, [r.entity for r in job.records], False))
    names = [f for f in model.features if f in values and f not in have]
    return [{**row, **{f: values[f][i] for f in names}} for i, row in enumerate(job.inputs)]
