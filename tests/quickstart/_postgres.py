"""What the quickstart leaves on one PostgreSQL database set by one setting
(``CAIRN_DATABASE_URL``): the metadata (definitions, quality and monitoring history, rollouts,
audit log, retraining ledger) and MLflow's tracking and registry tables are in that database,
and no SQLite file was written under ``.cairn/`` for them (the online store and the embedded
stream log stay files: ``online.url`` and the stream source choose those)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from cairn.app.project import Project
from cairn.metadata.schema import TABLES, VERSION_TABLE
from cairn.monitoring.history import MonitorHistory
from cairn.retraining.ledger import Ledger

MLFLOW_TABLES = {"alembic_version", "experiments", "runs", "metrics", "registered_models",
                 "model_versions"}  # fmt: skip


def _count(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def check_on_postgresql(target: Path, url: str) -> None:
    """The quickstart project at ``target`` keeps every table in the database at ``url``."""
    state = target / ".cairn"
    written = sorted(p.relative_to(state).as_posix() for p in state.rglob("*.db"))
    assert written == ["online.db", "streams/transactions.db"]
    assert not list(state.glob("*.locks"))  # singleton locks were advisory locks

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = set(sa.inspect(engine).get_table_names())
    assert {*TABLES, VERSION_TABLE, *MLFLOW_TABLES} <= tables
    with Project.open(target) as project:  # the services read what PostgreSQL holds
        assert project.metadata.engine.url.get_backend_name() == "postgresql"
        assert project.tracker.uri == url and project.tracker.registry_uri == url
        name, where = project.name, "WHERE project = :p"
        changes = project.rollouts.history("credit")
        assert len(changes) == _count(
            engine, f"SELECT count(*) FROM cairn_rollouts {where} AND deployment = 'credit'",
            p=name,
        ) > 5  # fmt: skip
        runs = MonitorHistory(project.metadata, project=name).runs()
        assert len(runs) == _count(
            engine, f"SELECT count(*) FROM cairn_monitor_runs {where}", p=name
        ) >= 2  # fmt: skip
        entries = Ledger(project.metadata, project=name).entries()
        assert len(entries) == _count(
            engine, f"SELECT count(*) FROM cairn_retraining_ledger {where}", p=name
        ) >= 1  # fmt: skip
        with engine.connect() as conn:
            per_suite = dict(
                conn.execute(
                    sa.text(f"SELECT suite, count(*) FROM cairn_quality_runs {where} "
                            "GROUP BY suite"), {"p": name},
                ).all()
            )  # fmt: skip
        assert per_suite and sum(per_suite.values()) >= 2  # a good batch, a halted one
        for suite, n in per_suite.items():
            assert len(project.quality.history(suite, limit=10_000)) == n
        audit = project.audit.entries()
        assert len(audit) == _count(
            engine, f"SELECT count(*) FROM cairn_audit_log {where}", p=name
        ) > 10  # fmt: skip
        verified = project.audit.verify()
        assert verified.ok and verified.entries == len(audit), verified.problems
        versions = project.registry.show("credit-default").versions
        assert len(versions) == _count(
            engine, "SELECT count(*) FROM model_versions WHERE name = 'credit-default'"
        ) >= 4  # fmt: skip
    engine.dispose()
