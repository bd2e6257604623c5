"""Tokens for every role on a governed test project: ``vic`` (viewer), ``dana`` (deployer),
``carla`` (approver) and ``root`` (admin, the project's first token), each in a token file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cairn.app.project import Project
from cairn.auth import ROLES, Principal, Role
from cairn.auth.bootstrap import write_first_admin_token

HOLDERS: dict[Role, str] = {
    "viewer": "vic",
    "deployer": "dana",
    "approver": "carla",
    "admin": "root",
}


@dataclass(frozen=True)
class Team:
    """One token per role: its secret, its file and the principal it proves."""

    secrets: dict[Role, str]
    files: dict[Role, Path]
    principals: dict[Role, Principal]


def make_team(root: Path, files_dir: Path) -> Team:
    """Create the tokens on the project at ``root`` (which has none yet)."""
    files_dir.mkdir(parents=True, exist_ok=True)
    with Project.open(root) as project:
        made = write_first_admin_token(project.tokens, project.root, holder=HOLDERS["admin"])
        assert made is not None
        admin = project.authenticate(made.path.read_text())
        secrets: dict[Role, str] = {"admin": made.path.read_text().strip()}
        for role in ROLES[:-1]:
            _, secrets[role] = project.tokens.create(HOLDERS[role], role, created_by=admin)
        principals = {role: project.authenticate(secrets[role]) for role in ROLES}
    files = {}
    for role, secret in secrets.items():
        files[role] = files_dir / f"{HOLDERS[role]}.token"
        files[role].write_text(secret + "\n")
    return Team(secrets, files, principals)


def at_least(role: Role) -> list[Role]:
    """The roles that cover ``role``."""
    return list(ROLES[ROLES.index(role) :])


def below(role: Role) -> list[Role]:
    """The roles that do not cover ``role``."""
    return list(ROLES[: ROLES.index(role)])
