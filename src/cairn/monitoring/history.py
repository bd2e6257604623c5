"""Monitoring results with history, in the metadata database (SQLite or PostgreSQL).

Four tables of their own (created on first use, next to the metadata store's):

* ``cairn_monitor_runs``: one row per run (deployment, model version, window, status, rows,
  the segment column, the performance as JSON, timing);
* ``cairn_monitor_results``: one row per run, segment and column (the score is the column
  ``score``): status, band and PSI as columns, and the whole
  :class:`~cairn.monitoring.FeatureDrift` (every statistic and p-value, the reasons, the bins
  for the report) as JSON in ``detail`` — a row written before a field existed reads back with
  that field's default (None);
* ``cairn_monitor_signals``: the run's :class:`~cairn.core.signals.MonitoringSignal` values
  (what the retraining work reads);
* ``cairn_monitor_changes``: band changes against the previous stored run of the same
  deployment and model version — the alerts.

A band change compares each column's *state* (its band, or ``error``) and each performance
metric's (``ok`` or ``degraded`` once judged) with the previous run of the same deployment and
model version (a canary's run is not compared with the champion's).
What the new run did not measure (a segment it was not split by, an immature window) is not a
change; what it measures for the first time (the first run, a new segment, the first judged
window) is a change from nothing unless it is ``stable``/``ok``.

Example
-------
>>> from datetime import UTC
>>> from cairn.monitoring.window import Window
>>> history = MonitorHistory("sqlite://", project="demo")
>>> w = Window("credit", 0, 86_400_000_000, 86_400_000_000, "as_of")
>>> run = MonitorRun("credit", "m", "1", w, "ok", "", 10,
...     [FeatureResult("income", "numeric", "ok", "drift", True, 10, psi=0.4)], None, [],
...     datetime.now(UTC), 0.1)
>>> stored, changes = history.record(run)
>>> stored.run_id, [(c.subject, c.previous, c.current) for c in changes]
(1, [('income', None, 'drift')])
>>> [r.flagged for r in history.runs("credit")]
[['income']]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.core.signals import MonitoringSignal
from cairn.metadata import MetadataStore, create_tables, engine_of, utc
from cairn.monitoring.performance import WindowPerformance
from cairn.monitoring.runs import ALL, FeatureResult, MonitorRun
from cairn.monitoring.window import Window

metadata = sa.MetaData()

runs_table = sa.Table(
    "cairn_monitor_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("deployment", sa.String(256), nullable=False),
    sa.Column("model_name", sa.String(256), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("window_end", sa.BigInteger, nullable=False),
    sa.Column("as_of", sa.BigInteger, nullable=False),
    sa.Column("anchor", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("segment_column", sa.String(256), nullable=True),
    sa.Column("segments", sa.Text, nullable=False),
    sa.Column("performance", sa.Text, nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Index("ix_cairn_monitor_runs_deployment", "project", "deployment", "id"),
)

results_table = sa.Table(
    "cairn_monitor_results",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_monitor_runs.id"), primary_key=True),
    sa.Column("segment", sa.String(512), primary_key=True),
    sa.Column("feature", sa.String(256), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("band", sa.String(16), nullable=True),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("psi", sa.Float, nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
)

signals_table = sa.Table(
    "cairn_monitor_signals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_monitor_runs.id"), nullable=False),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("deployment", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("segment", sa.String(512), nullable=True),
    sa.Column("band", sa.String(16), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_cairn_monitor_signals_deployment", "project", "deployment", "at"),
    sa.Index("ix_cairn_monitor_signals_run", "run_id", "id"),  # revision 0002
)

changes_table = sa.Table(
    "cairn_monitor_changes",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_monitor_runs.id"), primary_key=True),
    sa.Column("segment", sa.String(512), primary_key=True),
    sa.Column("subject", sa.String(256), primary_key=True),
    sa.Column("previous_run_id", sa.Integer, nullable=True),
    sa.Column("previous", sa.String(16), nullable=True),
    sa.Column("current", sa.String(16), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
)

_RANK = {"stable": 0, "ok": 0, "monitor": 1, "drift": 2, "degraded": 2, "error": 2}
_QUIET = {"stable", "ok"}


@dataclass(frozen=True)
class BandChange:
    """One column (or performance metric) whose state changed since the previous run."""

    deployment: str
    model_name: str
    model_version: str
    subject: str
    previous: str | None
    current: str
    value: float | None
    run_id: int
    previous_run_id: int | None
    at: int
    """The end of the run's window (µs since the epoch, UTC)."""
    segment: str = ALL

    @property
    def worse(self) -> bool:
        """Whether the new state is more severe than the previous one."""
        return _RANK.get(self.current, 0) > _RANK.get(self.previous or "stable", 0)

    def describe(self) -> str:
        """One line for logs and people."""
        where = f"{self.deployment}[{self.segment}]" if self.segment else self.deployment
        value = "" if self.value is None else f" ({self.value:.3f})"
        return f"{where} {self.subject}: {self.previous or 'none'} -> {self.current}{value}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**asdict(self), "worse": self.worse}


@dataclass(frozen=True)
class RunSummary:
    """One stored run without its per-column results (see :meth:`MonitorHistory.get`)."""

    run_id: int
    deployment: str
    model_name: str
    model_version: str
    window: Window
    status: str
    message: str
    rows: int
    flagged: list[str]
    errors: list[str]
    performance: WindowPerformance | None
    signals: int
    changes: int
    started_at: datetime
    segment_column: str | None


class MonitorHistory:
    """Monitoring runs, per-column results, signals and band changes of one project.

    Parameters
    ----------
    metadata:
        A :class:`~cairn.metadata.MetadataStore`, an SQLAlchemy engine, or a database URL
        (relative SQLite paths resolve against ``root``).
    project:
        The project the results belong to.
    """

    def __init__(
        self, metadata: MetadataStore | Engine | str, *, project: str, root: Path | None = None
    ) -> None:
        self.engine: Engine = engine_of(metadata, root=root)
        self.project = project
        create_tables(runs_table.metadata, self.engine)

    def record(self, run: MonitorRun) -> tuple[MonitorRun, list[BandChange]]:
        """Keep a run; returns it with its ``run_id`` and its band changes."""
        with self.engine.begin() as conn:
            inserted = conn.execute(runs_table.insert().values(**self._run_row(run)))
            run_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            if run.features:
                conn.execute(results_table.insert(), [_result_row(run_id, f) for f in run.features])
            if run.signals:
                conn.execute(
                    signals_table.insert(), [self._signal_row(run_id, s) for s in run.signals]
                )
            stored = run.with_id(run_id)
            changes = self._changes(conn, stored) if run.status == "ok" else []
            if changes:
                conn.execute(
                    changes_table.insert(),
                    [
                        {
                            "run_id": run_id,
                            "segment": c.segment,
                            "subject": c.subject,
                            "previous_run_id": c.previous_run_id,
                            "previous": c.previous,
                            "current": c.current,
                            "value": c.value,
                        }
                        for c in changes
                    ],
                )
        return stored, changes

    def runs(self, deployment: str | None = None, *, limit: int | None = None) -> list[RunSummary]:
        """Stored runs, newest first (of one deployment, at most ``limit``)."""
        r = runs_table
        query = sa.select(r).where(r.c.project == self.project).order_by(r.c.id.desc())
        if deployment is not None:
            query = query.where(r.c.deployment == deployment)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
            ids = [row.id for row in rows]
            flagged: dict[int, list[str]] = {i: [] for i in ids}
            errors: dict[int, list[str]] = {i: [] for i in ids}
            signals = dict.fromkeys(ids, 0)
            changes = dict.fromkeys(ids, 0)
            if ids:
                res = results_table
                for row in conn.execute(
                    sa.select(res.c.run_id, res.c.feature, res.c.status, res.c.drifted)
                    .where(res.c.run_id.in_(ids), res.c.segment == ALL)
                    .order_by(res.c.run_id, res.c.feature)
                ):
                    if row.status == "error":
                        errors[row.run_id].append(row.feature)
                    elif row.drifted:
                        flagged[row.run_id].append(row.feature)
                for table, counts in ((signals_table, signals), (changes_table, changes)):
                    for run_id, n in conn.execute(
                        sa.select(table.c.run_id, sa.func.count())
                        .where(table.c.run_id.in_(ids))
                        .group_by(table.c.run_id)
                    ):
                        counts[run_id] = int(n)
        return [
            RunSummary(
                run_id=row.id,
                deployment=row.deployment,
                model_name=row.model_name,
                model_version=row.model_version,
                window=_window(row),
                status=row.status,
                message=row.message,
                rows=int(row.rows),
                flagged=flagged[row.id],
                errors=errors[row.id],
                performance=_performance(row.performance),
                signals=signals[row.id],
                changes=changes[row.id],
                started_at=utc(row.started_at),
                segment_column=row.segment_column,
            )
            for row in rows
        ]

    def get(self, run_id: int) -> MonitorRun:
        """One stored run with its results and signals (KeyError when there is none)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(runs_table).where(
                    runs_table.c.id == run_id, runs_table.c.project == self.project
                )
            ).first()
            if row is None:
                raise KeyError(f"No monitoring run {run_id} in project {self.project!r}.")
            return self._load(conn, row)

    def latest(self, deployment: str | None = None) -> list[MonitorRun]:
        """The newest run with results (status ok) of each deployment (or of one)."""
        r = runs_table
        newest = (
            sa.select(sa.func.max(r.c.id))
            .where(r.c.project == self.project, r.c.status == "ok")
            .group_by(r.c.deployment)
        )
        if deployment is not None:
            newest = newest.where(r.c.deployment == deployment)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(r).where(r.c.id.in_(newest)).order_by(r.c.deployment))
            return [self._load(conn, row) for row in list(rows)]

    def series(self, deployment: str, *, limit: int = 200) -> list[MonitorRun]:
        """The deployment's runs with results, oldest first (the last ``limit``): PSI and
        performance over time."""
        r = runs_table
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    sa.select(r)
                    .where(r.c.project == self.project, r.c.deployment == deployment)
                    .where(r.c.status == "ok")
                    .order_by(r.c.id.desc())
                    .limit(limit)
                )
            )
            return [self._load(conn, row) for row in reversed(rows)]

    def signals(
        self, deployment: str | None = None, *, since: int | None = None
    ) -> list[MonitoringSignal]:
        """Stored signals, oldest first (of one deployment; window ends from ``since`` µs)."""
        s = signals_table
        query = sa.select(s.c.body).where(s.c.project == self.project).order_by(s.c.id)
        if deployment is not None:
            query = query.where(s.c.deployment == deployment)
        if since is not None:
            query = query.where(s.c.at >= since)
        with self.engine.connect() as conn:
            return [MonitoringSignal.from_dict(json.loads(b)) for (b,) in conn.execute(query)]

    def changes(self, run_id: int) -> list[BandChange]:
        """The band changes a stored run raised."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).first()
            if row is None:
                return []
            c = changes_table
            return [
                BandChange(
                    row.deployment,
                    row.model_name,
                    row.model_version,
                    ch.subject,
                    ch.previous,
                    ch.current,
                    ch.value,
                    run_id,
                    ch.previous_run_id,
                    int(row.window_end),
                    ch.segment,
                )
                for ch in conn.execute(
                    sa.select(c).where(c.c.run_id == run_id).order_by(c.c.segment, c.c.subject)
                )
            ]

    # -- internals -------------------------------------------------------------------------

    def _run_row(self, run: MonitorRun) -> dict[str, Any]:
        return {
            "project": self.project,
            "deployment": run.deployment,
            "model_name": run.model_name,
            "model_version": run.model_version,
            "window_start": run.window.start,
            "window_end": run.window.end,
            "as_of": run.window.as_of,
            "anchor": run.window.anchor,
            "status": run.status,
            "message": run.message,
            "rows": run.rows,
            "segment_column": run.segment_column,
            "segments": json.dumps(run.segments),
            "performance": None
            if run.performance is None
            else json.dumps(run.performance.to_dict()),
            "started_at": run.started_at,
            "seconds": run.seconds,
        }

    def _signal_row(self, run_id: int, s: MonitoringSignal) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "project": self.project,
            "deployment": s.deployment,
            "kind": s.kind,
            "subject": s.subject,
            "segment": s.segment,
            "band": s.band,
            "value": s.value,
            "at": s.at,
            "body": json.dumps(s.to_dict(), default=str),
        }

    def _load(self, conn: Connection, row: Any) -> MonitorRun:
        res = results_table
        features = [
            FeatureResult.from_dict(json.loads(r.detail))
            for r in conn.execute(
                sa.select(res.c.detail).where(res.c.run_id == row.id).order_by(res.c.segment)
            )
        ]
        s = signals_table
        signals = [
            MonitoringSignal.from_dict(json.loads(b))
            for (b,) in conn.execute(
                sa.select(s.c.body).where(s.c.run_id == row.id).order_by(s.c.id)
            )
        ]
        return MonitorRun(
            deployment=row.deployment,
            model_name=row.model_name,
            model_version=row.model_version,
            window=_window(row),
            status=row.status,
            message=row.message,
            rows=int(row.rows),
            features=features,
            performance=_performance(row.performance),
            signals=signals,
            started_at=utc(row.started_at),
            seconds=float(row.seconds),
            segment_column=row.segment_column,
            segments={str(k): int(v) for k, v in json.loads(row.segments).items()},
            run_id=int(row.id),
        )

    def _changes(self, conn: Connection, run: MonitorRun) -> list[BandChange]:
        r = runs_table
        prev = conn.execute(
            sa.select(r)
            .where(r.c.project == self.project, r.c.deployment == run.deployment)
            .where(r.c.model_name == run.model_name, r.c.model_version == run.model_version)
            .where(r.c.status == "ok", r.c.id < run.run_id)
            .order_by(r.c.id.desc())
            .limit(1)
        ).first()
        before = states(self._load(conn, prev)) if prev is not None else {}
        out = []
        assert run.run_id is not None
        for key, (state, value) in states(run).items():
            old = before.get(key, (None, None))[0]
            if state == old or (old is None and state in _QUIET):
                continue
            out.append(
                BandChange(
                    run.deployment,
                    run.model_name,
                    run.model_version,
                    key[1],
                    old,
                    state,
                    value,
                    run.run_id,
                    None if prev is None else int(prev.id),
                    run.window.end,
                    key[0],
                )
            )
        return out


def states(run: MonitorRun) -> dict[tuple[str, str], tuple[str, float | None]]:
    """(segment, subject) -> (state, value) of a run: each column's band (or ``error``) and
    each judged performance metric (``ok``/``degraded``, under the segment ``performance``)."""
    out: dict[tuple[str, str], tuple[str, float | None]] = {
        (f.segment, f.feature): (f.state, f.psi) for f in run.features
    }
    perf = run.performance
    if perf is not None and perf.status == "judged":
        for metric, value in perf.metrics.items():
            if metric in perf.baseline:
                out[("performance", metric)] = (
                    "degraded" if metric in perf.degraded else "ok",
                    value,
                )
    return out


def _result_row(run_id: int, f: FeatureResult) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "segment": f.segment,
        "feature": f.feature,
        "kind": f.kind,
        "status": f.status,
        "band": f.band,
        "drifted": f.drifted,
        "rows": f.rows,
        "psi": f.psi,
        "detail": json.dumps(f.to_dict()),
    }


def _window(row: Any) -> Window:
    return Window(
        row.deployment, int(row.window_start), int(row.window_end), int(row.as_of), row.anchor
    )


def _performance(text: str | None) -> WindowPerformance | None:
    return None if text is None else WindowPerformance.from_dict(json.loads(text))
