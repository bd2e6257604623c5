"""A fresh, empty metadata database per test: a SQLite file, or a new PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests._services import postgres_url_or_skip

FreshUrl = Callable[[], str]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshUrl]:
    """Makes URLs of new empty databases: SQLite files, or PostgreSQL schemas (reached through
    ``search_path``) dropped at the end."""
    if request.param == "sqlite":
        names = (f"sqlite:///{tmp_path / f'metadata{n}.db'}" for n in range(10**6))
        yield lambda: next(names)
        return
    base = sa.make_url(postgres_url_or_skip())
    admin = sa.create_engine(base)
    schemas: list[str] = []

    def make() -> str:
        schemas.append(f"t_{uuid.uuid4().hex[:12]}")
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schemas[-1]}"')
        url = base.update_query_dict({"options": f"-csearch_path={schemas[-1]}"})
        return url.render_as_string(hide_password=False)

    yield make
    with admin.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture
def fresh_url(new_database: FreshUrl) -> str:
    """The URL of one new empty database (SQLite and PostgreSQL)."""
    return new_database()
