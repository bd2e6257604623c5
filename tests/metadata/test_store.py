"""The metadata store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cairn.core.errors import ConfigError
from cairn.metadata import MetadataStore, NewDefinition
from cairn.metadata.store import MaterializationRecord


def test_apply_versions_by_hash(metadata_url: str, project_name: str) -> None:
    store = MetadataStore(metadata_url)
    first = store.apply(
        project_name,
        [
            NewDefinition("entity", "customer", "h1", {"v": 1}),
            NewDefinition("source", "txns", "s1", {"v": 1}),
        ],
        "ana",
    )
    assert [(c.name, c.version, c.status) for c in first] == [
        ("customer", 1, "created"),
        ("txns", 1, "created"),
    ]
    again = store.apply(project_name, [NewDefinition("entity", "customer", "h1", {"v": 1})], "ana")
    assert [(c.version, c.status) for c in again] == [(1, "unchanged")]
    changed = store.apply(project_name, [NewDefinition("entity", "customer", "h2", {"v": 2})], "bo")
    assert [(c.version, c.status) for c in changed] == [(2, "updated")]

    latest = {r.name: r for r in store.latest(project_name)}
    assert latest["customer"].version == 2
    assert latest["customer"].spec == {"v": 2}
    assert latest["customer"].applied_by == "bo"
    assert latest["customer"].applied_at.tzinfo is not None
    assert [r.name for r in store.latest(project_name, "source")] == ["txns"]
    history = store.history(project_name, "entity", "customer")
    assert [(r.version, r.definition_hash) for r in history] == [(1, "h1"), (2, "h2")]
    store.close()


def test_projects_are_isolated(metadata_url: str, project_name: str) -> None:
    store = MetadataStore(metadata_url)
    store.apply(project_name, [NewDefinition("entity", "customer", "h1", {})], "ana")
    assert store.latest(project_name + "_other") == []
    store.close()


def test_reopening_keeps_definitions(metadata_url: str, project_name: str) -> None:
    MetadataStore(metadata_url).apply(project_name, [NewDefinition("entity", "e", "h", {})], "a")
    assert [r.name for r in MetadataStore(metadata_url).latest(project_name)] == ["e"]


def test_bad_url_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="metadata.url must be a SQLAlchemy URL"):
        MetadataStore("not a url")


@pytest.mark.postgres
def test_unreachable_postgres_names_the_server() -> None:
    with pytest.raises(ConfigError, match="Cannot open the metadata store at postgresql"):
        MetadataStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_materialization_runs_are_listed_newest_first_with_their_start(
    metadata_url: str, project_name: str
) -> None:
    store = MetadataStore(metadata_url)
    at = datetime(2026, 3, 1, tzinfo=UTC)

    def run(view: str, kind: str, end: int, start: int | None = None, h: str = "h1") -> None:
        record = MaterializationRecord(view, "s", h, kind, start, end, end - 1, 10, at, None, 0.5)
        store.record_materialization(project_name, record)

    run("a", "incremental", 100)
    run("b", "incremental", 150)
    run("a", "range", 90, start=50)
    run("a", "incremental", 200)
    run("a", "incremental", 180)  # an earlier end: the watermark stays at 200
    run("a", "incremental", 300)
    run("a", "incremental", 400, h="h2")  # a new definition starts from nothing
    listed = store.materializations(project_name, view="a")
    assert [(r.kind, r.start_us, r.end_us, r.after_us) for r in listed] == [
        ("incremental", None, 400, None),
        ("incremental", None, 300, 200),
        ("incremental", None, 180, 200),
        ("incremental", None, 200, 100),
        ("range", 50, 90, None),
        ("incremental", None, 100, None),
    ]
    assert [r.seconds for r in listed] == [0.5] * 6
    page = store.materializations(project_name, view="a", limit=2, offset=1)
    assert [r.end_us for r in page] == [300, 180]
    assert store.materialization_count(project_name, view="a") == 6
    assert store.materialization_count(project_name) == 7
    assert store.materializations(project_name, store_url="elsewhere") == []


@pytest.mark.postgres
def test_the_first_query_after_the_server_cut_the_connections_succeeds() -> None:
    """A database restart or failover ends every pooled connection; the next query of the store
    runs on a new one (pre-ping) instead of failing once."""
    import sqlalchemy as sa

    from tests._services import postgres_database

    with postgres_database("preping") as url:
        store = MetadataStore(url)
        store.apply("p", [NewDefinition("entity", "customer", "h1", {"name": "c"})], "ana")
        with store.engine.connect() as conn:  # the pooled connection's server process
            (pid,) = conn.execute(sa.text("SELECT pg_backend_pid()")).one()
        admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        changes = store.apply("p", [NewDefinition("entity", "customer", "h2", {"name": "c"})], "b")
        assert [(c.version, c.status) for c in changes] == [(2, "updated")]
        store.engine.dispose()
