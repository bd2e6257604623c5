"""The quickstart's people: an author and a risk officer, each acting with an API token.

The demo creates the project's first admin token (``quickstart-admin``, used only to create
the other two), then a ``deployer`` token for the author (who trains and promotes) and an
``approver`` token for the risk officer (who reviews). Every governance step of the demo acts
as the principal its token proves (:meth:`cairn.app.project.Project.authenticate`), never as
a name typed somewhere. The secrets stay in memory; the database keeps their hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from cairn.auth.principal import Principal

if TYPE_CHECKING:
    from cairn.app.project import Project

ADMIN = "quickstart-admin"
OFFICER = "risk-officer"
LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class DemoTeam:
    """Who acts in the demo: ``admin`` (setup), ``author`` (deployer), ``officer`` (approver)."""

    admin: Principal
    author: Principal
    officer: Principal


def holder_name(user: str) -> str:
    """``user`` as a token holder name (letters, digits, ``. _ @ + -``).

    Example
    -------
    >>> holder_name("Ana Lima"), holder_name("  ")
    ('Ana-Lima', 'author')
    """
    name = re.sub(r"[^A-Za-z0-9._@+-]+", "-", user.strip()).strip("-._@+")[:128]
    return name or "author"


def demo_team(project: Project, user: str) -> DemoTeam:
    """Create the demo's tokens on ``project`` (which must have none yet: its first token is
    the admin's) and authenticate each one."""
    author = holder_name(user)
    officer = OFFICER if author.casefold() != OFFICER else f"{OFFICER}-2"
    _, admin_secret = project.tokens.create(ADMIN, "admin")
    admin = project.authenticate(admin_secret)
    _, author_secret = project.tokens.create(author, "deployer", LIFETIME, created_by=admin)
    _, officer_secret = project.tokens.create(officer, "approver", LIFETIME, created_by=admin)
    return DemoTeam(
        admin, project.authenticate(author_secret), project.authenticate(officer_secret)
    )
