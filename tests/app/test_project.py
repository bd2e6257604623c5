"""Project: the one composition root — every part shares one set of settings and one metadata
database, parts open on first use, and cheap paths stay cheap (no heavy import they do not
need)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cairn.app.project import Project
from cairn.core.deployments import UnknownDeploymentError
from cairn.core.errors import ConfigError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    (tmp_path / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion, threshold: 0.4}\n"
    )
    return tmp_path


def test_every_part_shares_one_metadata_database(repo: Path) -> None:
    project = Project.open(repo)
    engine = project.metadata.engine
    assert project.features.metadata is project.metadata
    assert project.audit.engine is engine
    assert project.rollout_store.engine is engine
    assert project.quality.engine is engine
    assert project.monitoring.history.engine is engine
    assert project.rollouts.store is project.rollout_store
    assert project.monitoring.log is project.predictions
    project.close()


def test_deployments_are_read_afresh_and_unknown_ones_named(repo: Path) -> None:
    project = Project.open(repo)
    assert project.deployment("credit").threshold == 0.4
    (repo / "deployments.yaml").write_text("deployments:\n  fraud: {model: f@champion}\n")
    assert list(project.deployments()) == ["fraud"]
    with pytest.raises(UnknownDeploymentError, match="No deployment 'credit'; deployments: fraud"):
        project.rollouts.deployment("credit")
    with pytest.raises(UnknownDeploymentError):
        project.monitoring.deployment("credit")


def test_a_folder_without_cairn_yaml_is_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No cairn.yaml in"):
        Project.open(tmp_path)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(out.stdout.split())


HEAVY = {"pandas", "pyarrow", "mlflow", "fastapi", "lightgbm", "sklearn", "duckdb", "scipy"}


def test_the_cli_imports_nothing_heavy_at_start() -> None:
    loaded = _modules_after("import cairn, cairn.cli.main")
    assert loaded & (HEAVY | {"sqlalchemy", "pydantic_settings", "jinja2", "rich"}) == set()


def test_reading_the_audit_log_needs_no_dataframe_or_mlflow(repo: Path) -> None:
    loaded = _modules_after(
        f"from cairn.app.project import Project\nProject.open({str(repo)!r}).audit.verify()"
    )
    assert loaded & HEAVY == set()
