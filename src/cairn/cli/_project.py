"""The project a command works on: ``Project.open(--repo)`` (the one composition root)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cairn.app.project import Project


def open_project(repo: Path) -> Project:
    """The project at ``repo`` (a missing or bad ``cairn.yaml`` is one ConfigError line)."""
    from cairn.app.project import Project

    return Project.open(repo)


def current_user() -> str:
    """Who is acting (``CAIRN_USER`` or the OS user)."""
    from cairn.app.identity import current_user as user

    return user()
