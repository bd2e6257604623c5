"""One exit-code contract for every `cairn` command: 0 ok, 1 a check, gate or governance rule
said no, 2 bad input or usage; never a traceback for a user's error.

Every command of the Typer app (walked recursively) has cases in :data:`CASES`, and every case
is run in-process against real folders (:mod:`tests.cli._exit_project`): bad input → 2 for
all, "said no" → 1 for those that can say no, ok → 0 where cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cairn.cli._console import EXIT_BAD, EXIT_BUG, EXIT_NO, EXIT_OK, CheckFailed, exit_code
from cairn.cli.main import app
from tests.cli import _exit_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

OK, NO, BAD = EXIT_OK, EXIT_NO, EXIT_BAD
M = "credit-default"
R = ["--repo", "{repo}"]
E = ["--repo", "{empty}"]
AS_OF = "2026-10-02T00:00:00Z"
PLAN = ["experiment", "plan", "--baseline", "0.2", "--mde", "0.02", "--daily-units", "1000"]


def _as(role: str) -> list[str]:
    return ["--token-file", f"{{token_{role}}}"]


# (argv, expected code); placeholders in braces are filled by _exit_project.Folders.resolve
CASES: list[tuple[list[str], int]] = [
    (["version"], OK),
    (["version", "extra"], BAD),
    (["init", "{tmp}/blank"], OK),
    (["init", "{repo}"], BAD),  # a folder that is not empty
    (["quickstart", "{repo}/data"], BAD),
    (["config", "schema", "deployments"], OK),
    (["config", "schema", "nope"], BAD),
    (["config", "check", "--repo", "{tmp}/initialized"], OK),
    (["retrain", "status", "--repo", "{repo}"], OK),
    (["retrain", "status", "--policy", "nope", "--repo", "{repo}"], BAD),
    (["retrain", "backtest", "-p", "nope", "--from", "2025-01-01", "--repo", "{repo}"], BAD),
    (["retrain", "run", "-p", "nope", "--repo", "{repo}"], BAD),  # 1: tests/retraining/test_cli
    (["retrain", "watch", "--once", "--repo", "{repo}"], OK),
    (["retrain", "watch", "--json", "--repo", "{repo}"], BAD),  # --json needs --once
    (["config", "check", "--repo", "{broken}"], NO),
    (["config", "check", *E], BAD),
    (["apply", *E], BAD),
    (["features", "list", *R], OK),
    (["features", "list", *E], BAD),
    (["training-set", "SELECT customer_id, event_timestamp FROM applications", "-f",
      "profile:income", "-o", "{tmp}/ts.parquet", "--quality", "{suite}", *R], NO),
    (["training-set", "SELECT 1", "-f", "profile:nope", "-o", "{tmp}/t.parquet", *R], BAD),
    (["materialize", "2026-01-01T00:00:00", "now", *R], BAD),  # no zone
    (["materialize-incremental", *E], BAD),
    (["status", *R], OK),
    (["status", *E], BAD),
    (["consistency", "check", "profile", "--at", "2000-01-01T00:00:00Z", *R], NO),
    (["consistency", "check", "nope", *R], BAD),
    (["stream", "status", *R], OK),
    (["stream", "status", *E], BAD),
    (["stream", "run", "--until-idle", *R], BAD),  # no view reads a stream source
    (["stream", "run", "profile", *R], BAD),  # a view over a file source
    (["stream", "produce", "nope", "{repo}/data/nope.csv", *R], BAD),
    (["serve", *E], BAD),
    (["ui", *E], BAD),
    (["ui", "--port", "0", *R], BAD),
    (["score", "-d", "nope", "-e", "x.parquet", "-o", "{tmp}/s.parquet", *R], BAD),
    (["quality", "validate", "{suite}", "{repo}/data/profiles.parquet", "--no-store"], NO),
    (["quality", "validate", "{suite}", "{repo}/data/nope.parquet", "--no-store"], BAD),
    (["quality", "history", "incomes", *R], OK),
    (["quality", "history", "incomes", *E], BAD),
    (["quality", "suggest", "{repo}/data/profiles.parquet"], OK),
    (["quality", "suggest", "{repo}/data/nope.parquet"], BAD),
    (["audit", "log", *R], OK),
    (["audit", "log", *E], BAD),
    (["audit", "verify", *R], OK),
    (["audit", "verify", "--repo", "{tampered}"], NO),
    (["audit", "verify", *E], BAD),
    (["audit", "checkpoint", "--out", "{tmp}/cp.jsonl", "--repo", "{tampered}"], NO),
    (["audit", "checkpoint", "--out", "{tmp}/cp.jsonl", *E], BAD),
    (["audit", "sign-head", "--reason", "CHG-1", *_as("approver"), *R], NO),
    (["audit", "sign-head", "--reason", "CHG-1", *R], BAD),  # no token
    (["auth", "whoami", *_as("viewer"), *R], OK),
    (["auth", "whoami", "--token-file", "{tmp}/missing.token", *R], BAD),
    (["auth", "token", "list", *R], OK),
    (["auth", "token", "list", *E], BAD),
    (["auth", "token", "create", "--holder", "x", "--role", "viewer", *_as("deployer"), *R], NO),
    (["auth", "token", "create", "--holder", "a b", "--role", "viewer", *_as("admin"), *R],
     BAD),
    (["auth", "token", "revoke", "tk_nope", *_as("admin"), *R], BAD),
    (["train", "--config", "nope.yaml", *R], BAD),
    (["models", "list", *R], OK),
    (["models", "list", *E], BAD),
    (["models", "show", M, *R], OK),
    (["models", "show", "nope", *R], BAD),
    (["models", "history", M, *R], OK),
    (["models", "explain", M, "1", "--out", "{tmp}/explain.html", *R], OK),
    (["models", "explain", M, "9", *R], BAD),  # no such version
    (["models", "history", M, "--at", "yesterday", *R], BAD),
    (["models", "promote", M, "2", "--reason", "go", *_as("deployer"), *R], NO),  # four eyes
    (["models", "promote", M, "1", "--reason", "go", *R], BAD),  # no token
    (["models", "approve", M, "2", "--ticket", "MRR-1", "--decision", "approve",
      "--reviewer", "dave", *_as("approver"), *R], NO),  # a typed name is not who acted
    (["models", "approve", M, "2", "--ticket", "MRR-1", "--decision", "maybe", *R], BAD),
    (["models", "alias", M, "challenger-x", "3", "--reason", "try", *_as("viewer"), *R], NO),
    (["models", "alias", M, "challenger-x", "--reason", "try", *_as("deployer"), *R], BAD),
    (["models", "policy", M, *R], OK),
    (["models", "policy", M, "--min-approvals", "2", "--reason", "x", *_as("deployer"), *R], NO),
    (["models", "policy", "nope", *R], BAD),
    (["models", "verify", M, *R], OK),  # 1 (a tampered artifact): tests/registry
    (["models", "verify", M, "99", *R], BAD),
    (["runs", "list", *R], OK),
    (["runs", "list", *E], BAD),
    (["runs", "compare", "a", *R], BAD),
    (["lineage", f"{M}@champion", *R], OK),
    (["lineage", f"{M}@fallback", *R], BAD),
    (["predictions", "query", "SELECT count(*) AS n FROM predictions", *R], OK),
    (["predictions", "query", "SELECT nope FROM predictions", *R], BAD),
    (["predictions", "compact", *E], BAD),
    (["outcomes", "load", "{repo}/data/nope.csv", *R], BAD),
    (["deploy", "status", "credit", *R], OK),
    (["deploy", "status", "nope", *R], BAD),
    (["deploy", "history", "credit", *R], OK),
    (["deploy", "history", "nope", *R], BAD),
    (["deploy", "create", "credit", "--strategy", "single", "--model", f"{M}/2",
      *_as("deployer"), *R], NO),  # four eyes
    (["deploy", "create", "credit", "--strategy", "canary", "--stages", "5,x",
      *_as("deployer"), *R], BAD),
    (["deploy", "set", "credit", "--stages", "10,100", "--reason", "x", *_as("viewer"), *R], NO),
    (["deploy", "set", "credit", *_as("deployer"), *R], BAD),
    (["deploy", "switch", "credit", "--reason", "x", *_as("viewer"), *R], NO),
    (["deploy", "switch", "credit", "--reason", "x", *_as("deployer"), *R], BAD),
    (["deploy", "promote", "credit", "--reason", "x", *_as("viewer"), *R], NO),
    (["deploy", "promote", "credit", "--reason", "x", *_as("approver"), *R], BAD),
    (["deploy", "rollback", "credit", "--reason", "x", *_as("viewer"), *R], NO),
    (["deploy", "rollback", "credit", "--reason", "x", *R], BAD),
    (["deploy", "watch", "--once", *R], OK),
    (["deploy", "watch", "--once", *E], BAD),
    (["experiment", "list", "credit", *R], OK),
    (["experiment", "list", "credit", "--format", "parquet", *R], BAD),
    (["experiment", "analyze", "credit", "--format", "parquet", *R], BAD),
    (["experiment", "compare", "nope", *R], BAD),
    ([*PLAN], OK),
    ([*PLAN[:3], "2", *PLAN[4:]], BAD),
    (["monitor", "run", "-d", "credit", "--window", "1d", "--fail-on-signal", *R], NO),
    (["monitor", "run", "-d", "credit", "--as-of", AS_OF, "--window", "1x", *R], BAD),
    (["monitor", "history", "-d", "credit", *R], OK),
    (["monitor", "history", "-d", "credit", "--limit", "0", *R], BAD),
    (["monitor", "report", "--out", "{tmp}/monitor.html", *R], OK),
    (["monitor", "report", *E], BAD),
]  # fmt: skip

runner = CliRunner(env={"COLUMNS": "200"})


def _commands() -> set[tuple[str, ...]]:
    """Every command path of the app, sub-groups included."""
    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.add(path)
            return
        for name, child in children.items():
            walk(child, (*path, name))

    walk(get_command(app), ())
    return found


def _command_of(argv: list[str], commands: set[tuple[str, ...]]) -> tuple[str, ...]:
    for n in (3, 2, 1):
        if tuple(argv[:n]) in commands:
            return tuple(argv[:n])
    raise AssertionError(f"{argv} names no command")


def test_every_command_has_a_case_for_each_outcome_it_can_have() -> None:
    commands = _commands()
    assert len(commands) >= 50  # the walk reached the sub-groups
    covered: dict[tuple[str, ...], set[int]] = {}
    for argv, code in CASES:
        covered.setdefault(_command_of(argv, commands), set()).add(code)
    assert sorted(commands - covered.keys()) == []
    assert sorted(c for c in commands if BAD not in covered[c]) == []
    can_say_no = {
        ("quality", "validate"),
        ("training-set",),
        ("monitor", "run"),
        ("audit", "verify"),
        ("audit", "checkpoint"),
        ("config", "check"),
        ("consistency", "check"),
        ("models", "approve"),
        ("models", "promote"),
        ("deploy", "create"),
    }
    assert sorted(c for c in can_say_no if NO not in covered[c]) == []


def test_every_command_ends_by_the_contract() -> None:
    """Each command is wrapped in the one mapping of outcomes to codes."""

    def callbacks(command: Any, path: str) -> list[tuple[str, Any]]:
        children = getattr(command, "commands", None)
        if children is None:
            return [(path, command.callback)]
        return [pair for n, c in children.items() for pair in callbacks(c, f"{path} {n}")]

    unwrapped = [
        path
        for path, fn in callbacks(get_command(app), "cairn")
        if not getattr(fn, "exit_contract", False)
    ]
    assert unwrapped == []


@pytest.fixture(scope="module")
def folders(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path
) -> _exit_project.Folders:
    return _exit_project.build(tmp_path_factory.mktemp("exit-codes"), mlflow_template)


@pytest.mark.parametrize(
    ("argv", "code"), CASES, ids=[f"{' '.join(a)[:70]} -> {c}" for a, c in CASES]
)
def test_case(
    folders: _exit_project.Folders,
    argv: list[str],
    code: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CAIRN_TOKEN", raising=False)
    result = runner.invoke(app, folders.resolve(argv))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if code == BAD:  # one line from Cairn, or Click's usage message
        assert result.stderr.lstrip().startswith(("error:", "Usage:")), result.stderr


def test_the_mapping_of_exceptions() -> None:
    from cairn.auth.principal import AccessDeniedError, AuthenticationError
    from cairn.core.errors import ConfigError, DataError
    from cairn.quality.errors import QualityGateError
    from cairn.registry.errors import AuditTamperedError, GovernanceError

    assert [
        exit_code(e)
        for e in (
            CheckFailed("no"),
            QualityGateError("halted", None),  # type: ignore[arg-type]
            GovernanceError("four eyes"),
            AccessDeniedError("needs the admin role"),
            AuditTamperedError("broken"),
        )
    ] == [NO] * 5
    assert [
        exit_code(e)
        for e in (
            AuthenticationError("no token"),
            ConfigError("bad"),
            DataError("bad"),
            FileNotFoundError("x"),
            PermissionError("x"),
            KeyError("x"),
        )
    ] == [BAD] * 6
    assert exit_code(TypeError("bug")) == EXIT_BUG


def test_one_line_errors_ends_each_outcome_by_its_code() -> None:
    import typer

    from cairn.cli._console import one_line_errors

    outcomes: dict[str, Exception] = {
        "no": CheckFailed("the gate said no"),
        "bad": ValueError("not a number"),
        "bug": TypeError("a bug"),
    }
    tiny = typer.Typer()

    @tiny.command()
    @one_line_errors
    def run(what: str) -> None:
        if what != "ok":
            raise outcomes[what]

    codes = {what: runner.invoke(tiny, [what]) for what in ("ok", *outcomes)}
    assert {w: r.exit_code for w, r in codes.items()} == {"ok": 0, "no": 1, "bad": 2, "bug": 3}
    assert codes["no"].stderr.strip() == "error: the gate said no"
    assert codes["bad"].stderr.strip() == "error: ValueError: not a number"
    assert "Traceback" in codes["bug"].stderr and "a bug in Cairn" in codes["bug"].stderr
