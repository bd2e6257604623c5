"""Quality gates: act on a result (halt, warn, log), and guard training sets and
materialization with a suite.

* :func:`enforce` raises :class:`~cairn.quality.errors.QualityGateError` when the result's
  action is ``halt`` (a critical or high failure by default), naming every halting check;
  warnings and logs go to the ``cairn.quality`` logger.
* :func:`gate_training_set` wraps a training-set job so that the data it hands over —
  ``to_df()``, ``to_arrow()``, ``to_parquet()`` — is validated first. The job is lazy and
  recomputes on every call, so the check runs on exactly what is returned; ``to_parquet``
  writes to a temporary file, validates it out of core, and only then moves it into place.
* :func:`gate_materialization` validates, per view, the source rows a materialization run is
  about to write (the rows that became visible in the run's range), before anything is written.

Example
-------
>>> import pandas as pd
>>> from cairn.quality import Check, Suite
>>> suite = Suite("s", [Check("expect_column_values_to_not_be_null", {"column": "x"})])
>>> try:
...     gate(suite, pd.DataFrame({"x": [1, None]}), what="Demo batch")
... except QualityGateError as exc:
...     print(exc)
Demo batch halted by quality suite 's' on DataFrame: 1 of 1 check(s) failed with action halt: \
#1 expect_column_values_to_not_be_null (x) [critical]: 1 unexpected (50.00%)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cairn.core.config import Settings
from cairn.core.manifest import TrainingSetManifest
from cairn.core.timeutil import to_micros
from cairn.features import batch_of
from cairn.offline import AppliedView, RetrievalJob
from cairn.offline.select import source_query
from cairn.quality.context import quote
from cairn.quality.data import ROW, BoundTable
from cairn.quality.errors import QualityGateError
from cairn.quality.results import ValidationResult
from cairn.quality.runner import validate
from cairn.quality.severity import Action
from cairn.quality.spec import Suite, as_suite
from cairn.quality.store import QualityStore

logger = logging.getLogger("cairn.quality")


def enforce(result: ValidationResult, *, what: str) -> ValidationResult:
    """Raise on ``halt``; log ``warn`` (warning) and ``log`` (info); return the result."""
    action = result.action
    if action is Action.HALT:
        halting = result.halting
        raise QualityGateError(
            f"{what} halted by quality suite {result.suite!r} on {result.data}: "
            f"{len(halting)} of {len(result.checks)} check(s) failed with action halt: "
            f"{result.describe_failures(halting)}",
            result,
        )
    if action is Action.WARN:
        logger.warning("%s: quality suite %r: %s", what, result.suite, result.describe_failures())
    elif action is Action.LOG:
        logger.info("%s: quality suite %r: %s", what, result.suite, result.describe_failures())
    return result


def gate(
    suite: Suite | str | Path, data: Any, *, what: str = "Data", **options: Any
) -> ValidationResult:
    """:func:`~cairn.quality.runner.validate` then :func:`enforce`."""
    return enforce(validate(suite, data, **options), what=what)


class GatedRetrievalJob(RetrievalJob):
    """A training-set job whose results pass a quality suite before they are returned.

    ``quality`` holds the result of the last validation.
    """

    def __init__(
        self, job: RetrievalJob, suite: Suite, store: QualityStore | None = None
    ) -> None:  # the inner job does the work: nothing of RetrievalJob's state is set here
        self._job, self._suite, self._store = job, suite, store
        self.quality: ValidationResult | None = None

    @property
    def sql(self) -> str:
        """The DuckDB query that computes the training set."""
        return self._job.sql

    @property
    def manifest(self) -> TrainingSetManifest:
        """What this training set was built from."""
        return self._job.manifest

    def _check(self, data: Any, label: str) -> None:
        result = validate(self._suite, data, label=label, store=self._store)
        self.quality = enforce(result, what="Training set")

    def to_arrow(self) -> pa.Table:
        """The training set as an Arrow table, after the suite passed."""
        table = self._job.to_arrow()
        self._check(table, "training set")
        return table

    def to_df(self) -> pd.DataFrame:
        """The training set as a pandas DataFrame, after the suite passed."""
        frame = self._job.to_df()
        self._check(frame, "training set")
        return frame

    def to_parquet(self, path: str | Path) -> Path:
        """Write the training set, validate the file, and move it into place only if it passed
        (a halted training set leaves no file behind)."""
        out = Path(path)
        tmp = out.with_name(f".{out.name}.unvalidated")
        try:
            self._job.to_parquet(tmp)
            self._check(tmp, str(out))
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return out


def gate_training_set(
    job: RetrievalJob, suite: Suite | str | Path, *, store: QualityStore | None = None
) -> GatedRetrievalJob:
    """Wrap ``job`` so its results are validated by ``suite`` (loaded now, so a bad suite
    fails at once)."""
    return GatedRetrievalJob(job, as_suite(suite), store)


def gate_materialization(
    suite: Suite | str | Path,
    views: Mapping[str, AppliedView],
    *,
    root: Path,
    settings: Settings,
    end: datetime,
    start: datetime | None = None,
    watermarks: Mapping[str, int | None] | None = None,
    store: QualityStore | None = None,
) -> list[ValidationResult]:
    """Validate, for each view, the source rows a materialization run will take: explicit
    runs ``start <= event_ts`` and incremental runs ``availability > watermark``, both with
    ``availability = max(event_ts + 1µs, created_ts) <= end`` (as the materializer selects
    them). A suite naming a ``source`` guards only the views reading that source; each source
    and range is validated once. Raises QualityGateError on halt, before anything is written.
    """
    suite = as_suite(suite)
    end_us = to_micros(end, owner="end_date")
    start_us = None if start is None else to_micros(start, owner="start_date")
    results: list[ValidationResult] = []
    seen: set[tuple[str, int | None]] = set()
    for name, applied in views.items():
        source = batch_of(applied.view.source)
        if suite.source is not None and suite.source != applied.view.source.name:
            continue
        after = None if start_us is not None else (watermarks or {}).get(name)
        if (source.name, after) in seen:
            continue
        seen.add((source.name, after))
        result = _validate_rows(
            settings, suite, source, root, end_us, start_us, after, f"view {name!r}", store
        )
        results.append(enforce(result, what=f"Materialization of view {name!r}"))
    return results


def validate_source(
    suite: Suite | str | Path,
    source: Any,
    *,
    root: Path,
    settings: Settings,
    end: datetime,
    store: QualityStore | None = None,
) -> ValidationResult:
    """Validate the rows of ``source`` (a batch source of the project) known at ``end``
    (``availability = max(event_ts + 1µs, created_ts) <= end``, as materialization and
    point-in-time joins see them). Returns the result; never raises on failed checks.

    Retraining gates a candidate on its suites this way: the rows a run at ``end`` read."""
    suite = as_suite(suite)
    end_us = to_micros(end, owner="end")
    return _validate_rows(
        settings, suite, batch_of(source), root, end_us, None, None, "retraining", store
    )


def _validate_rows(
    settings: Settings,
    suite: Suite,
    source: Any,
    root: Path,
    end_us: int,
    start_us: int | None,
    after: int | None,
    user: str,
    store: QualityStore | None,
) -> ValidationResult:
    """Validate the source rows available in ``(after, end_us]`` (and from ``start_us``), on
    the engine ``offline.engine`` names (the source read as materialization reads it)."""
    query = source_query(settings.offline, root, source)
    try:
        cond = f"greatest(__ev + 1, __cr) <= {end_us}"
        if after is not None:
            cond += f" AND greatest(__ev + 1, __cr) > {int(after)}"
        if start_us is not None:
            cond += f" AND __ev >= {start_us}"
        columns = query.relation.columns
        own = ", ".join(quote(c) for c in columns)
        base = f"(SELECT {own} FROM {query.view} WHERE {cond})"
        rows = f"(SELECT {own}, __seq AS {ROW} FROM {query.view} WHERE {cond})"
        label = f"source {source.name!r} for {user}"
        table = BoundTable(label, dict(columns), base, lambda: rows)
        if settings.offline.engine != "spark":
            return validate(suite, table, connection=query.con, store=store)
        from cairn.quality.spark import SparkExecutor

        executor = SparkExecutor(settings.offline, query.con)
        try:
            return validate(suite, table, connection=query.con, store=store, executor=executor)
        finally:
            executor.close()
    finally:
        query.close()
