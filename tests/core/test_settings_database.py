"""``database`` (``CAIRN_DATABASE_URL``): one setting puts the metadata database and MLflow's
tracking and registry store on one server; every explicit key still overrides it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cairn.app.project import Project
from cairn.core.config import Settings, settings_reference
from cairn.core.errors import ConfigError

PG = "postgresql+psycopg://cairn@db.internal:5432/cairn"
SQLITE_METADATA = "sqlite:///.cairn/metadata.db"
SQLITE_MLFLOW = "sqlite:///.cairn/mlflow.db"


def load(data: dict[str, Any] | None = None, /, **env: str) -> Settings:
    return Settings.from_mapping({"project": "credit", **(data or {})}, env=env)


def urls(s: Settings) -> tuple[str, str, str | None]:
    return s.metadata.url, s.tracking.uri, s.tracking.registry_uri


def test_unset_keeps_an_sqlite_file_each() -> None:
    s = load()
    assert s.database is None and urls(s) == (SQLITE_METADATA, SQLITE_MLFLOW, None)


@pytest.mark.parametrize(
    ("data", "env"),
    [({"database": PG}, {}), ({}, {"CAIRN_DATABASE_URL": PG}), ({}, {"cairn_database_url": PG})],
)
def test_one_setting_in_the_file_or_the_environment(
    data: dict[str, Any], env: dict[str, str]
) -> None:
    s = load(data, **env)
    assert s.database == PG and urls(s) == (PG, PG, None)  # the registry follows tracking.uri


def test_explicit_keys_win_from_the_file_or_the_environment() -> None:
    server = "http://mlflow.internal:5000"
    s = load({"database": PG, "tracking": {"uri": server}})
    assert urls(s) == (PG, server, None)
    s = load({"metadata": {"url": "sqlite:///m.db"}}, CAIRN_DATABASE_URL=PG)
    assert urls(s) == ("sqlite:///m.db", PG, None)
    s = load(
        {"database": PG}, CAIRN_METADATA__URL="sqlite:///x.db", CAIRN_TRACKING__REGISTRY_URI=server
    )
    assert urls(s) == ("sqlite:///x.db", PG, server)
    s = load({"database": "sqlite:///file.db"}, CAIRN_DATABASE_URL=PG)  # environment > file
    assert urls(s) == (PG, PG, None)
    assert urls(load({"database": PG}, CAIRN_DATABASE_URL="")) == (PG, PG, None)  # blank: unset


def test_a_bad_url_is_one_line_with_its_password_redacted() -> None:
    expected = "must be a database URL such as postgresql+psycopg://user@host:5432/db"
    with pytest.raises(ConfigError) as info:
        load({"database": "db.internal"})
    assert str(info.value) == f"cairn.yaml: database {expected}; got 'db.internal'."
    with pytest.raises(ConfigError) as info:
        load(CAIRN_DATABASE_URL="cairn:s3cret@db")
    assert str(info.value).startswith(f"CAIRN_DATABASE_URL (database) {expected}; got '")
    assert "s3cret" not in str(info.value)


def test_the_reference_names_its_variable() -> None:
    (row,) = [r for r in settings_reference() if r["key"] == "database"]
    assert row["env"] == "CAIRN_DATABASE_URL" and row["aliases"] == [] and row["default"] is None


def test_the_project_opens_every_store_on_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"  # the same wiring as PostgreSQL, with no server
    (tmp_path / "cairn.yaml").write_text(f"project: credit\ndatabase: {url}\n", encoding="utf-8")
    with Project.open(tmp_path) as project:
        assert project.metadata.engine.url.database == str(tmp_path / "one.db")
        assert project.tracker.uri == url and project.tracker.registry_uri == url
        assert project.rollout_store.engine is project.metadata.engine
        assert project.quality.engine is project.metadata.engine
