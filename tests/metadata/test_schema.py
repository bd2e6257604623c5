"""The migration history on SQLite and on a real PostgreSQL: a new database, one made before
the history existed, one from a newer release, a later revision, a failing one."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cairn.core.errors import ConfigError
from cairn.metadata import MetadataStore, schema
from cairn.metadata.schema import HEAD, TABLES, VERSION_TABLE, revision, upgrade
from tests.metadata._legacy_tables import example_row, legacy

NEXT = f"{int(HEAD) + 1:04d}"  # a test-only revision after the newest


def _stores_metadata() -> sa.MetaData:
    """Every store's tables, as the stores declare them, in one MetaData."""
    from cairn.auth._tables import metadata as auth
    from cairn.metadata.store import _meta as definitions
    from cairn.monitoring.history import metadata as monitoring
    from cairn.quality.store import _meta as quality
    from cairn.registry._tables import metadata as registry
    from cairn.retraining.ledger import metadata as retraining
    from cairn.rollouts.store import metadata as rollouts

    combined = sa.MetaData()
    for meta in (definitions, quality, monitoring, registry, rollouts, auth, retraining):
        for table in meta.sorted_tables:
            table.to_metadata(combined)
    return combined


def _diff(engine: sa.Engine, metadata: sa.MetaData) -> list[Any]:
    def ours(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or ((name or "").startswith("cairn_") and name != VERSION_TABLE)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": ours})
        return list(compare_metadata(context, metadata))


def _migrate_to(engine: sa.Engine, target: str) -> None:
    script = ScriptDirectory(str(schema.MIGRATIONS))
    with engine.begin() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "version_table": VERSION_TABLE,
                "fn": lambda rev, _ctx: script._upgrade_revs(target, rev),
            },
        )
        with Operations.context(context):
            context.run_migrations()


def _rows(engine: sa.Engine, tables: list[sa.Table] | None = None) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(sa.select(t)))
            for t in tables or legacy.sorted_tables
        }


def _cairn_tables(engine: sa.Engine) -> set[str]:
    return {t for t in sa.inspect(engine).get_table_names() if t.startswith("cairn_")}


def test_head_is_the_newest_revision_of_the_history() -> None:
    script = ScriptDirectory(str(schema.MIGRATIONS))
    assert script.get_current_head() == HEAD
    assert [s.revision for s in script.walk_revisions()] == [
        f"{n:04d}" for n in range(int(HEAD), 0, -1)
    ]


def test_a_new_database_opens_at_head_with_every_table(fresh_url: str) -> None:
    store = MetadataStore(fresh_url)
    assert revision(store.engine) == HEAD
    assert _cairn_tables(store.engine) == {*TABLES, VERSION_TABLE}
    assert _diff(store.engine, _stores_metadata()) == []  # the stores' tables are the schema
    store.close()


def test_revision_0001_is_the_schema_of_the_previous_release(fresh_url: str) -> None:
    engine = sa.create_engine(fresh_url)
    _migrate_to(engine, "0001")
    assert revision(engine) == "0001"
    assert _diff(engine, legacy) == []
    engine.dispose()


def test_a_database_of_the_previous_release_is_stamped_and_upgraded(
    fresh_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sa.create_engine(fresh_url)
    legacy.create_all(engine)
    with engine.begin() as conn:
        for table in legacy.sorted_tables:
            conn.execute(table.insert().values(example_row(table, "old")))
    before = _rows(engine)
    assert all(len(rows) == 1 for rows in before.values())

    with caplog.at_level(logging.INFO, logger="cairn.metadata.schema"):
        store = MetadataStore(fresh_url)
    assert "with revision 0001" in caplog.text
    assert revision(store.engine) == HEAD
    assert _rows(store.engine) == before
    assert "ix_cairn_monitor_signals_run" in {
        i["name"] for i in sa.inspect(store.engine).get_indexes("cairn_monitor_signals")
    }
    assert [(r.kind, r.name, r.version) for r in store.latest("old")] == [("kind", "name", 1)]
    store.close()
    engine.dispose()


def test_a_database_with_some_old_tables_gets_the_missing_ones(fresh_url: str) -> None:
    engine = sa.create_engine(fresh_url)
    old = [legacy.tables["cairn_definitions"], legacy.tables["cairn_audit_log"]]
    legacy.create_all(engine, tables=old)
    with engine.begin() as conn:
        for table in old:
            conn.execute(table.insert().values(example_row(table, "old")))
    before = _rows(engine, old)
    upgrade(engine)
    assert revision(engine) == HEAD
    assert _cairn_tables(engine) == {*TABLES, VERSION_TABLE}
    after = _rows(engine)
    assert {name: rows for name, rows in after.items() if rows} == before
    engine.dispose()


def test_a_database_of_a_newer_release_is_refused_in_one_line(fresh_url: str) -> None:
    url = sa.make_url(fresh_url)
    if url.get_backend_name() == "postgresql":  # the test server trusts; the message must hide it
        url = url.set(password="pa@ss:w")
    MetadataStore(fresh_url).close()
    engine = sa.create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(ConfigError) as refused:
        MetadataStore(url.render_as_string(hide_password=False))
    message = str(refused.value)
    assert "\n" not in message
    assert "schema revision '9999'" in message and f"its newest is {HEAD!r}" in message
    assert "upgrade cairn" in message
    assert "pa@ss" not in message and "pa%40ss" not in message
    assert url.database is not None and url.database in message
    with engine.connect() as conn:  # refused, not touched
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == "9999"
    engine.dispose()


def test_opening_a_database_at_head_is_one_select_then_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    upgrade(sa.create_engine(url))
    engine = sa.create_engine(url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    upgrade(engine)
    upgrade(engine)
    assert statements == [f"SELECT version_num FROM {VERSION_TABLE}"]


def _history_with(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the schema at a copy of the history plus a test-only revision after HEAD."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / f"r{NEXT}_test_only.py").write_text(
        f'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "{NEXT}"\n'
        f'down_revision = "{HEAD}"\n\n\ndef upgrade() -> None:\n' + body
    )
    monkeypatch.setattr(schema, "MIGRATIONS", copy)
    monkeypatch.setattr(schema, "HEAD", NEXT)


def test_a_later_revision_changes_a_table_and_keeps_its_rows(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sa.create_engine(fresh_url)
    upgrade(engine)
    rollouts = legacy.tables["cairn_rollouts"]
    with engine.begin() as conn:
        conn.execute(rollouts.insert().values(example_row(rollouts, "p")))
    _history_with(
        tmp_path,
        '    op.add_column("cairn_rollouts", sa.Column("note", sa.Text, nullable=True))\n',
        monkeypatch,
    )
    later = sa.create_engine(fresh_url)
    upgrade(later)
    assert revision(later) == NEXT
    with later.connect() as conn:
        row = conn.execute(sa.text("SELECT project, actor, note FROM cairn_rollouts")).one()
    assert tuple(row) == ("p", "actor", None)
    engine.dispose()
    later.dispose()


def test_a_failing_revision_leaves_the_database_as_it_was(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sa.create_engine(fresh_url))
    _history_with(
        tmp_path,
        '    op.create_table("cairn_half", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    raise RuntimeError("the test-only revision failed half way")\n',
        monkeypatch,
    )
    engine = sa.create_engine(fresh_url)
    with pytest.raises(RuntimeError, match="half way"):
        upgrade(engine)
    assert revision(engine) == HEAD
    assert "cairn_half" not in _cairn_tables(engine)
    engine.dispose()
