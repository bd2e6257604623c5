"""Shared fixtures: project folders, seeds and the real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests._services import postgres_url_or_skip


@pytest.fixture
def global_random_seed() -> int:
    """The one seed tests draw their random data from."""
    return 20261126


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty project folder holding only ``project: test``."""
    (tmp_path / "cairn.yaml").write_text("project: test\n")
    return tmp_path


@pytest.fixture
def write_parquet(repo: Path) -> Callable[[str, pd.DataFrame], Path]:
    """Write a frame as Parquet into the project folder."""

    def write(name: str, frame: pd.DataFrame) -> Path:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path

    return write


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A metadata store URL on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    return postgres_url_or_skip()


@pytest.fixture
def project_name() -> str:
    """A project name unique to the test (isolates tests sharing one PostgreSQL database)."""
    return f"p_{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render CLI tables wide, whatever terminal (or none) the test runner has."""
    from cairn.ui.terminal import console as consoles

    for console in (consoles.console, consoles.err_console):
        monkeypatch.setattr(console, "_width", 200)
