"""Code commit and package versions."""

from __future__ import annotations

from pathlib import Path

from cairn.tracking import code_commit, package_versions
from tests.tracking._fixtures import git_commit


def test_commit_of_a_clean_and_a_dirty_project(tmp_path: Path) -> None:
    (tmp_path / "features.py").write_text("x = 1\n")
    git_commit(tmp_path)
    clean = code_commit(tmp_path)
    assert clean is not None and len(clean.sha) == 40 and not clean.dirty
    (tmp_path / "features.py").write_text("x = 2\n")
    dirty = code_commit(tmp_path)
    assert dirty is not None and dirty.sha == clean.sha and dirty.dirty
    assert dirty.changed == ("features.py",)
    assert dirty.to_dict()["dirty"] is True


def test_ignored_state_does_not_make_it_dirty(tmp_path: Path) -> None:
    git_commit(tmp_path)  # ignores .cairn/
    (tmp_path / ".cairn").mkdir()
    (tmp_path / ".cairn" / "mlflow.db").write_text("state")
    found = code_commit(tmp_path)
    assert found is not None and not found.dirty


def test_no_commit_outside_a_repository(tmp_path: Path) -> None:
    assert code_commit(tmp_path / "missing") is None
    assert code_commit(Path("/")) is None


def test_package_versions() -> None:
    versions = package_versions()
    assert {"cairn", "lightgbm", "scikit-learn", "numpy", "pandas", "duckdb", "mlflow"} <= set(
        versions
    )
    assert all(v != "not installed" for k, v in versions.items() if k != "cairn")
    assert package_versions(["no-such-dist"]) == {"no-such-dist": "not installed"}
