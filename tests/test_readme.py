"""The README stands alone and stays current: it cites nothing outside the repository, lists
every setting, every CLI command group and every package of the architecture."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from cairn.cli.main import app
from cairn.core.config import settings_reference

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
PACKAGES = sorted(
    p.name
    for p in (Path(__file__).resolve().parents[1] / "src" / "cairn").iterdir()
    if p.is_dir() and (p / "__init__.py").is_file()
)


def test_the_readme_cites_no_file_outside_the_repository() -> None:
    assert not re.search(r"\bDESIGN\b|shared/|STYLE\.md", README)


def test_every_setting_is_documented() -> None:
    for row in settings_reference():
        assert f"`{row['env']}`" in README, row["env"]
        if row["key"] is not None:
            assert f"`{row['key']}`" in README, row["key"]


def test_every_command_is_in_the_cli_table() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name in commands:
        assert f"`cairn {name}" in README, name


def test_every_package_is_on_the_architecture_map() -> None:
    map_ = README[README.index("## Architecture") : README.index("## Benchmarks")]
    for name in PACKAGES:
        assert f"  {name}/" in map_, name
