"""`cairn deploy`: every command on a governed project, and one line (exit 2) per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.auth.bootstrap import write_first_admin_token
from cairn.cli.main import app
from tests.rollouts import _rollout
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

DEPLOYMENTS = "deployments:\n  credit: {model: credit-default@champion}\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    root = _rollout.build(tmp_path_factory.mktemp("deploy") / "credit", mlflow_template, 7)
    (root / "deployments.yaml").write_text(DEPLOYMENTS)
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    return _rollout.copy(template, tmp_path / "credit")


@pytest.fixture
def runner(repo: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Acts as ``ana`` with the project's first (admin) token in ``CAIRN_TOKEN``."""
    with Project.open(repo) as project:
        made = write_first_admin_token(project.tokens, project.root, holder="ana")
    assert made is not None
    monkeypatch.setenv("CAIRN_TOKEN", made.path.read_text().strip())
    return CliRunner()


def deploy(runner: CliRunner, repo: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["deploy", *args, "--repo", str(repo)])
    return result.exit_code, result.stdout, result.stderr


def test_canary_lifecycle(runner: CliRunner, repo: Path) -> None:
    code, out, err = deploy(
        runner, repo, "create", "credit", "--strategy", "canary",
        "--candidate", "credit-default@challenger", "--stages", "10,50,100",
        "--min-samples", "50", "--interval", "5", "--shadow", "credit-default/3",
        "--reason", "try v2",
    )  # fmt: skip
    assert code == 0, out + err
    assert "credit: created -> canary (active) v1" in out
    assert "canary credit-default/2 10%" in out and "shadows credit-default/3" in out
    assert "note:" in err and "four eyes" in err
    code, out, _ = deploy(runner, repo, "status", "credit")
    assert code == 0
    assert "stage 1/3" in out and "credit-default/2" in out and "scored, not served" in out
    code, out, _ = deploy(runner, repo, "watch", "--once")
    assert code == 0 and "credit @ 10%: wait [min_samples]" in out
    code, out, err = deploy(runner, repo, "promote", "credit")  # a refusal: exit 1
    assert code == 1 and "four eyes" in err and len(err.strip().splitlines()) == 1
    code, out, _ = deploy(runner, repo, "rollback", "credit", "--reason", "not approved")
    assert code == 0 and "rolled back -> canary (rolled_back) v2" in out
    code, out, _ = deploy(runner, repo, "history", "credit")
    assert code == 0 and "not approved" in out and "rolled_back" in out
    audit = runner.invoke(app, ["audit", "verify", "--repo", str(repo)])
    assert audit.exit_code == 0 and "chain intact" in audit.stdout


def test_blue_green_ab_and_set(runner: CliRunner, repo: Path) -> None:
    code, out, err = deploy(
        runner, repo, "create", "credit", "--strategy", "blue-green", "--green", "credit-default/3"
    )
    assert code == 0, out + err
    code, out, _ = deploy(runner, repo, "switch", "credit", "--reason", "MRR-2026-0009 go-live")
    assert code == 0 and "green credit-default/3 100%" in out
    code, out, err = deploy(
        runner, repo, "create", "credit", "--strategy", "ab", "--replace",
        "--arm", "a=credit-default@champion", "--arm", "b=credit-default/3",
    )  # fmt: skip
    assert code == 0, out + err
    assert "a credit-default@champion 50%" in out
    code, out, _ = deploy(runner, repo, "set", "credit", "--weight", "a=0.2", "--weight", "b=0.8")
    assert code == 0 and "b credit-default/3 80%" in out
    code, out, err = deploy(runner, repo, "promote", "credit", "--arm", "b", "--reason", "MRR-1")
    assert code == 0 and "promoted -> single (active)" in out
    assert "credit-default v3 is now champion" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "create",
                "credit",
                "--strategy",
                "ab",
                "--arm",
                "a=credit-default/1:0.5",
                "--arm",
                "b=credit-default/3:0.6",
            ],
            "arm weights must sum to 1; got a=0.5, b=0.6 (sum 1.1)",
        ),
        (
            ["create", "credit", "--strategy", "canary", "--candidate", "credit-default@nope"],
            "Model 'credit-default' has no alias 'nope'",
        ),
        (
            ["create", "credit", "--strategy", "single", "--model", "credit-default/2"],
            "four eyes: credit-default v2 (author ana) is not approved by a second person",
        ),
        (
            [
                "create",
                "credit",
                "--strategy",
                "canary",
                "--candidate",
                "credit-default/3",
                "--stages",
                "5,50,25,100",
            ],
            "stages must be strictly increasing; got [5.0, 50.0, 25.0, 100.0]",
        ),
        (["create", "credit", "--strategy", "canary", "--stages", "5,x"], "--stages must be"),
        (["create", "fraud", "--strategy", "single"], "No deployment 'fraud'"),
        (["switch", "credit"], "has no rollout yet"),
        (["set", "credit"], "nothing to change"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    runner: CliRunner, repo: Path, args: list[str], message: str
) -> None:
    code, out, err = deploy(runner, repo, *args)
    # a governance refusal is "the check said no" (1); everything else here is bad input (2)
    assert code == (1 if message.startswith("four eyes") else 2), out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err
