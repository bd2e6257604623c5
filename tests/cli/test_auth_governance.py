"""Every governance command of the CLI with a token of every role: the role that covers it
succeeds, a lower one is refused (exit 2, one line naming the role needed), no token or an
unknown one is refused (exit 2, one line telling how to get one); the principal is who acted."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.auth import ROLES, Role
from cairn.cli.main import app
from tests.auth._team import HOLDERS, Team, make_team
from tests.rollouts import _rollout
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

DEPLOYMENTS = "deployments:\n  credit: {model: credit-default@champion}\n"
M = "credit-default"
CANARY = {"strategy": "canary", "candidate": f"{M}/3"}
BLUE_GREEN = {"strategy": "blue-green", "green": f"{M}/3"}

# command, the role it needs, the rollout to start first (None: none)
COMMANDS: list[tuple[list[str], Role, dict[str, str] | None]] = [
    (["models", "approve", M, "2", "--ticket", "MRR-2026-0009", "--decision", "approve"],
     "approver", None),
    (["models", "approve", M, "2", "--ticket", "MRR-2026-0009", "--decision", "reject"],
     "approver", None),
    (["models", "promote", M, "3", "--reason", "MRR-2026-0001 approved"], "deployer", None),
    (["models", "alias", M, "challenger-x", "3", "--reason", "shadow"], "deployer", None),
    (["models", "alias", M, "challenger", "--remove", "--reason", "done"], "deployer", None),
    (["models", "policy", M, "--min-approvals", "2", "--reason", "high risk"], "admin", None),
    (["deploy", "create", "credit", "--strategy", "canary", "--candidate", f"{M}/3"],
     "deployer", None),
    (["deploy", "set", "credit", "--stages", "10,100", "--reason", "faster"], "deployer", CANARY),
    (["deploy", "rollback", "credit", "--reason", "alert"], "deployer", CANARY),
    (["deploy", "switch", "credit", "--reason", "go-live"], "deployer", BLUE_GREEN),
    (["deploy", "promote", "credit", "--reason", "MRR-2026-0001"], "approver", CANARY),
]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    root = _rollout.build(tmp_path_factory.mktemp("authgov") / "credit", mlflow_template, 7)
    (root / "deployments.yaml").write_text(DEPLOYMENTS)
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    return _rollout.copy(template, tmp_path / "credit")


@pytest.fixture
def team(repo: Path, tmp_path: Path) -> Team:
    return make_team(repo, tmp_path / "tokens")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("CAIRN_TOKEN", raising=False)
    monkeypatch.setenv("CAIRN_USER", "mallory")  # never decides who acted
    return CliRunner()


def _start(repo: Path, team: Team, rollout: dict[str, str] | None) -> None:
    if rollout is not None:
        with Project.open(repo) as project:
            project.rollouts.create("credit", rollout, principal=team.principals["admin"])


def _run(runner: CliRunner, repo: Path, args: list[str], *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--repo", str(repo), *extra])
    return result.exit_code, result.stdout + result.stderr


def _last_actor(repo: Path) -> str:
    with Project.open(repo) as project:
        return project.audit.entries()[-1].actor


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("args", "needs", "first"), COMMANDS, ids=lambda v: str(v)[:40])
def test_every_governance_command_needs_its_role(
    runner: CliRunner,
    repo: Path,
    team: Team,
    args: list[str],
    needs: Role,
    first: dict[str, str] | None,
    role: Role,
) -> None:
    _start(repo, team, first)
    code, out = _run(runner, repo, args, "--token-file", str(team.files[role]))
    if ROLES.index(role) >= ROLES.index(needs):
        assert code == 0, out
        assert _last_actor(repo) == HOLDERS[role]
    else:  # authorization said no: exit 1
        assert code == 1, out
        assert f"needs the {needs} role" in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "needs", "first"), COMMANDS, ids=lambda v: str(v)[:40])
def test_without_a_valid_token_every_governance_command_is_refused(
    runner: CliRunner,
    repo: Path,
    team: Team,
    args: list[str],
    needs: Role,
    first: dict[str, str] | None,
    tmp_path: Path,
) -> None:
    _start(repo, team, first)
    code, out = _run(runner, repo, args)
    assert code == 2 and "you need a token: set CAIRN_TOKEN or give --token-file" in out
    assert len(out.strip().splitlines()) == 1
    bogus = tmp_path / "bogus.token"
    bogus.write_text("cairn_" + "A" * 43)
    code, out = _run(runner, repo, args, "--token-file", str(bogus))
    assert code == 2 and "Unknown API token" in out
    garbage = runner.invoke(app, [*args, "--repo", str(repo)], env={"CAIRN_TOKEN": "nope"})
    assert garbage.exit_code == 2 and "neither an API token" in garbage.stderr


def test_cairn_token_acts_like_a_token_file(
    runner: CliRunner, repo: Path, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAIRN_TOKEN", team.secrets["approver"])
    code, out = _run(runner, repo, COMMANDS[0][0])
    assert code == 0, out
    assert "Recorded: carla approved credit-default v2 (author ana)" in out


def test_self_approval_by_token_is_impossible(
    runner: CliRunner, repo: Path, team: Team, tmp_path: Path
) -> None:
    """ana trains v4 with her own token; the same principal approving it is refused, and the
    refusal is in the audit chain."""
    with Project.open(repo) as project:
        admin = team.principals["admin"]
        _, secret = project.tokens.create("ana", "approver", created_by=admin)
    ana = tmp_path / "ana.token"
    ana.write_text(secret)
    (repo / "train.yaml").write_text(_rollout.config().to_yaml())
    code, out = _run(runner, repo, ["train", "--config", "train.yaml"], "--token-file", str(ana))
    assert code == 0, out
    with Project.open(repo) as project:
        v4 = project.registry.version(M, "4")
    assert v4.tags["cairn.author"] == "ana" and v4.tags["cairn.author_authenticated"] == "true"
    args = ["models", "approve", M, "4", "--ticket", "MRR-2026-0010", "--decision", "approve"]
    code, out = _run(runner, repo, args, "--token-file", str(ana))
    assert code == 1 and "ana" in out
    with Project.open(repo) as project:
        refused = project.audit.entries()[-1]
    assert refused.action == "governance.refused" and refused.actor == "ana"
    assert refused.details["principal"]["via"].startswith("token:")


def test_reviewer_is_only_a_display_name_checked_against_the_token(
    runner: CliRunner, repo: Path, team: Team
) -> None:
    args = [*COMMANDS[0][0], "--token-file", str(team.files["approver"])]
    code, out = _run(runner, repo, [*args, "--reviewer", "dave"])
    assert code == 1 and "dave" in out
    code, out = _run(runner, repo, [*args, "--reviewer", "Carla"])
    assert code == 0, out
    assert _last_actor(repo) == "carla"
