"""Fixtures of the offline point-in-time tests: fresh project folders.

``new_project`` is session-scoped so hypothesis tests can call it once per example (a
function-scoped fixture would be shared by all examples of one test).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

NewProject = Callable[[], Path]


@pytest.fixture(scope="session")
def new_project(tmp_path_factory: pytest.TempPathFactory) -> NewProject:
    """A factory of empty project folders, each with a ``cairn.yaml`` of ``project: t``."""

    def make() -> Path:
        root = tmp_path_factory.mktemp("project")
        (root / "cairn.yaml").write_text("project: t\n", encoding="utf-8")
        return root

    return make


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """This test's project folder (``tmp_path`` with a ``cairn.yaml`` of ``project: t``)."""
    (tmp_path / "cairn.yaml").write_text("project: t\n", encoding="utf-8")
    return tmp_path
