"""The result store: every validation run and its checks, kept in the metadata database.

Two tables of their own (created on first use) in the database of
:class:`cairn.metadata.MetadataStore` — SQLite by default, PostgreSQL by URL:

* ``cairn_quality_runs``: one row per run (suite, its digest, data, rows, verdict, action,
  health score, timing) with the full result as JSON;
* ``cairn_quality_checks``: one row per check of a run (expectation, target, layer, severity,
  success, observed value, unexpected count and share), for trends per check.

Example
-------
>>> from datetime import UTC, datetime
>>> store = QualityStore("sqlite://")
>>> run = ValidationResult("s", "0" * 64, "frame", 3, [], datetime.now(UTC), 0.01, 1)
>>> store.record(run).run_id
1
>>> [(r.suite, r.verdict) for r in store.history("s")]
[('s', 'passed')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.metadata import MetadataStore, create_tables, engine_of, utc
from cairn.quality.results import ValidationResult, jsonable

_meta = sa.MetaData()
runs = sa.Table(
    "cairn_quality_runs",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("suite", sa.String(256), nullable=False),
    sa.Column("suite_digest", sa.String(64), nullable=False),
    sa.Column("data", sa.String(1024), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("queries", sa.Integer, nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("health", sa.Float, nullable=True),
    sa.Column("checks", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Index("ix_cairn_quality_runs_suite", "project", "suite", "started_at"),
)
checks = sa.Table(
    "cairn_quality_checks",
    _meta,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_quality_runs.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("expectation", sa.String(128), nullable=False),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("layer", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("dimension", sa.String(16), nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("observed", sa.Text, nullable=True),
    sa.Column("unexpected_count", sa.BigInteger, nullable=True),
    sa.Column("unexpected_share", sa.Float, nullable=True),
)


@dataclass(frozen=True)
class RunSummary:
    """One stored run, without its checks (see :meth:`QualityStore.get` for those)."""

    run_id: int
    suite: str
    suite_digest: str
    data: str
    rows: int
    started_at: datetime
    seconds: float
    verdict: str
    action: str
    health: float | None
    checks: int
    failed: int


class QualityStore:
    """Validation results with history, per project.

    Parameters
    ----------
    metadata:
        A :class:`~cairn.metadata.MetadataStore`, an SQLAlchemy engine, or a database URL
        (relative SQLite paths resolve against ``root``).
    project:
        The project the results belong to.
    """

    def __init__(
        self,
        metadata: MetadataStore | Engine | str,
        *,
        project: str = "default",
        root: Path | None = None,
    ) -> None:
        self.engine: Engine = engine_of(metadata, root=root)
        self.project = project
        create_tables(_meta, self.engine)

    def record(self, result: ValidationResult) -> ValidationResult:
        """Keep a result; returns it with its ``run_id``."""
        with self.engine.begin() as conn:
            inserted = conn.execute(
                runs.insert().values(
                    project=self.project,
                    suite=result.suite,
                    suite_digest=result.suite_digest,
                    data=result.data[:1024],
                    rows=result.rows,
                    started_at=result.started_at,
                    seconds=result.seconds,
                    queries=result.queries,
                    verdict=result.verdict,
                    action=str(result.action),
                    health=result.health.score,
                    checks=len(result.checks),
                    failed=len(result.failures),
                    result="{}",
                )
            ).inserted_primary_key
            assert inserted is not None
            run_id = int(inserted[0])
            stored = replace(result, run_id=run_id)
            conn.execute(runs.update().where(runs.c.id == run_id).values(result=stored.to_json()))
            if result.checks:
                conn.execute(
                    checks.insert(),
                    [
                        {
                            "run_id": run_id,
                            "position": c.index,
                            "expectation": c.expectation,
                            "target": c.target[:512],
                            "layer": str(c.layer),
                            "severity": str(c.severity),
                            "dimension": str(c.dimension),
                            "success": c.success,
                            "observed": json.dumps(jsonable(c.observed)),
                            "unexpected_count": c.unexpected_count,
                            "unexpected_share": c.unexpected_share,
                        }
                        for c in result.checks
                    ],
                )
        return stored

    def history(self, suite: str, *, limit: int = 20, offset: int = 0) -> list[RunSummary]:
        """The latest runs of a suite, newest first (skipping the ``offset`` newest)."""
        summary = [c for c in runs.c if c.name != "result"]  # the full JSON is read by get()
        query = (
            sa.select(*summary)
            .where(runs.c.project == self.project, runs.c.suite == suite)
            .order_by(runs.c.started_at.desc(), runs.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            return [
                RunSummary(
                    run_id=r.id,
                    suite=r.suite,
                    suite_digest=r.suite_digest,
                    data=r.data,
                    rows=r.rows,
                    started_at=utc(r.started_at),
                    seconds=r.seconds,
                    verdict=r.verdict,
                    action=r.action,
                    health=r.health,
                    checks=r.checks,
                    failed=r.failed,
                )
                for r in conn.execute(query)
            ]

    def get(self, run_id: int) -> ValidationResult:
        """One stored run with every check; a KeyError when there is none."""
        query = sa.select(runs.c.result).where(runs.c.project == self.project, runs.c.id == run_id)
        with self.engine.connect() as conn:
            text = conn.execute(query).scalar_one_or_none()
        if text is None:
            raise KeyError(f"No quality run {run_id} in project {self.project!r}.")
        return ValidationResult.from_dict(json.loads(text))

    def count(self, suite: str) -> int:
        """How many runs of a suite are stored."""
        query = (
            sa.select(sa.func.count())
            .select_from(runs)
            .where(runs.c.project == self.project, runs.c.suite == suite)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def suites(self) -> list[str]:
        """Names of the suites with stored runs."""
        query = sa.select(runs.c.suite).where(runs.c.project == self.project).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())
