from __future__ import annotations

from pathlib import Path

import pytest

from cairn.core.config import Settings
from cairn.core.errors import ConfigError


def test_project_only_file_is_complete(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: credit\n")
    s = Settings.load(tmp_path, env={})
    assert s.project == "credit"
    assert s.metadata.url == "sqlite:///.cairn/metadata.db"
    assert s.offline.memory_limit == "2GB"


def test_environment_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: credit\noffline:\n  threads: 1\n")
    env = {"CAIRN_OFFLINE__THREADS": "2", "CAIRN_METADATA__URL": "sqlite:///x.db", "OTHER": "1"}
    s = Settings.load(tmp_path, env=env)
    assert s.offline.threads == 2
    assert s.metadata.url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("offline: {}\n", "the key 'project' is required"),
        ("project: credit\nonline_store: x\n", "unknown key 'online_store'"),
        ("project: credit\noffline:\n  threads: many\n", "threads must be an integer; got 'many'"),
        ("project: credit\noffline: 3\n", "offline must be a mapping"),
        ("project: [a\n", "is not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("project: 'bad name!'\n", "project must be a name"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "cairn.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Settings.load(tmp_path, env={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No cairn.yaml"):
        Settings.load(tmp_path, env={})


def test_env_override_of_unknown_key_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: credit\n")
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        Settings.load(tmp_path, env={"CAIRN_OFFLINE__BOGUS": "1"})
