"""The quickstart on one PostgreSQL database, by one setting (``CAIRN_DATABASE_URL``): every
step runs green, the metadata (definitions, quality and monitoring history, rollouts, audit
log, retraining ledger) and MLflow's tracking and registry tables are in that database, and
no SQLite file was written under ``.cairn/`` for them (the online store and the embedded
stream log stay files: ``online.url`` and the stream source choose those)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.cli.main import app
from cairn.metadata.schema import TABLES, VERSION_TABLE
from cairn.monitoring.history import MonitorHistory
from cairn.retraining.ledger import Ledger
from tests._services import postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MLFLOW_TABLES = {"alembic_version", "experiments", "runs", "metrics", "registered_models",
                 "model_versions"}  # fmt: skip


def _count(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def test_the_quickstart_runs_on_one_postgresql_database_set_by_one_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with postgres_database("quickstart") as url:
        monkeypatch.setenv("CAIRN_DATABASE_URL", url)  # the servers it starts inherit it
        target = tmp_path / "demo"
        result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["quickstart", str(target)])
        out = result.output
        assert result.exit_code == 0, out
        assert out.count("0 mismatches") == 4 and "Halted" in out
        assert "Lineage complete." in out and "Audit chain intact" in out
        assert "Served 300 predictions" in out and " 0 failed" in out
        assert "credit-drift #1 canary_proposed" in out
        assert "pipeline aborted" not in out  # psycopg's noise about MLflow's handled retries

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
