"""Registry fixtures: an engine on SQLite and on the real PostgreSQL, and exact clocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from cairn.metadata import MetadataStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(metadata_url: str) -> Iterator[Engine]:
    """The metadata store's engine (the one the registry shares in production)."""
    store = MetadataStore(metadata_url)
    yield store.engine
    store.close()


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """A clock that starts at 2026-01-01T00:00Z and advances one day per reading."""
    ticks = iter(range(1_000_000))
    return lambda: T0 + timedelta(days=next(ticks))
