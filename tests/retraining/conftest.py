"""Retraining test fixtures: the example project with a champion and a drifted month."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.retraining._project import Base, build
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Base:
    """Built once per test process (about 15 s); tests use copies (:func:`root`)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAIRN_USER", "ana")
        return build(tmp_path_factory.mktemp("retrain") / "credit", mlflow_template)


@pytest.fixture
def root(base: Base, tmp_path: Path) -> Path:
    """A copy of the base project for one test."""
    return base.copy(tmp_path / "credit")
