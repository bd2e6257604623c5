"""Machine-readable output: ``--json`` parses with the expected keys on every command that
prints results; ``--format csv|parquet --out`` writes files that read back equal to the JSON
rows; a non-terminal run prints long values whole."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.auth.bootstrap import write_first_admin_token
from cairn.cli.main import app
from cairn.ui.output import flat_rows
from tests.experiments._log import write_log
from tests.rollouts._rollout_project import rollout_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

runner = CliRunner(env={"COLUMNS": "200", "CAIRN_USER": "tester"})
AS_OF = "2026-04-10T00:00:00Z"
VOLATILE = {"freshness_seconds"}
"""Columns measured against the clock at each run (they differ between two runs)."""
SUITE = """\
name: profiles
expectations:
  - expect_column_values_to_not_be_null: {column: customer_id}
  - expect_column_values_to_be_between: {column: income, min_value: 0}
"""


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with an A/B experiment, outcomes and a shadow challenger in its log."""
    root = tmp_path_factory.mktemp("logged")
    (root / "cairn.yaml").write_text("project: out\n")
    (root / "experiments.yaml").write_text(
        "min_completeness: 0.5\nmetrics:\n  default_rate: {maturity: 1d}\n"
    )
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion, threshold: 0.4}\n"
    )
    write_log(root, seed=9, units=300, seed_column="ab-1")
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The serving test project: applied views, two registered versions, a stored quality
    run, a rollout and an audit trail."""
    root = rollout_project(tmp_path_factory.mktemp("served") / "p", mlflow_template)
    (root / "profiles.yaml").write_text(SUITE)
    with Project.open(root) as project:  # rollout changes act with a token
        made = write_first_admin_token(project.tokens, project.root, holder="tester")
    assert made is not None
    for args in (
        [
            "quality",
            "validate",
            str(root / "profiles.yaml"),
            str(root / "data" / "profiles.parquet"),
        ],
        [
            "deploy", "create", "credit", "--strategy", "single", "--model", "credit-default/1",
            "--token-file", str(made.path),
        ],
    ):  # fmt: skip
        result = runner.invoke(app, [*args, "--repo", str(root)])
        assert result.exit_code == 0, result.output
    return root


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


ROW_COMMANDS: list[tuple[str, list[str], set[str]]] = [
    ("logged", ["predictions", "query", "SELECT deployment, decision, score FROM predictions "
                "ORDER BY prediction_id LIMIT 5"], {"deployment", "decision", "score"}),
    ("logged", ["experiment", "list", "credit"], {"seed", "strategy", "arms", "predictions"}),
    ("served", ["models", "list"], {"name", "versions", "latest", "aliases"}),
    ("served", ["runs", "list"], {"run_id", "model", "started"}),
    ("served", ["audit", "log"], {"seq", "at", "actor", "action", "subject", "details", "hash"}),
    ("served", ["deploy", "history", "credit"], {"version", "at", "actor", "strategy", "spec"}),
    ("served", ["features", "list"], {"view", "entities", "source", "features"}),
    ("served", ["status"], {"view", "kind", "watermark", "freshness_seconds"}),
    ("served", ["quality", "history", "profiles"], {"run_id", "verdict", "health", "rows"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "args", "keys"), ROW_COMMANDS, ids=[" ".join(a[:2]) for _, a, _ in ROW_COMMANDS]
)
def test_row_commands_print_json_rows_and_write_csv_and_parquet(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    where: str,
    args: list[str],
    keys: set[str],
) -> None:
    repo = ["--repo", str(request.getfixturevalue(where))]
    rows = _json(*args, *repo)
    assert isinstance(rows, list) and rows, rows
    assert keys <= set(rows[0]), rows[0]
    _, expected = flat_rows(rows)
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"rows.{fmt}"
        result = runner.invoke(app, [*args, *repo, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        back = (
            pd.read_csv(out, dtype=str, keep_default_na=False)  # CSV: text as written
            if fmt == "csv"
            else pd.read_parquet(out)
        )
        assert list(back.columns) == list(expected[0])
        records = [
            {str(k): v for k, v in r.items()} for r in back.astype(object).to_dict("records")
        ]
        _same_rows(records, expected, exact=fmt == "parquet")
    printed = runner.invoke(app, [*args, *repo, "--format", "csv"])
    assert printed.exit_code == 0 and printed.stdout.splitlines()[0].split(",")[0] == next(
        iter(expected[0])
    )


def test_monitor_history_json_is_a_list(served: Path) -> None:
    assert _json("monitor", "history", "--deployment", "credit", "--repo", str(served)) == []


def test_result_commands_print_their_to_dict(logged: Path, served: Path, tmp_path: Path) -> None:
    repo = ["--repo", str(logged)]
    analysis = _json("experiment", "analyze", "credit", "--metric", "approval_rate",
                     "--as-of", AS_OF, *repo)  # fmt: skip
    assert {"deployment", "status", "arms", "metrics", "srm", "experiment"} <= set(analysis)
    assert analysis["metrics"][0]["metric"]["name"] == "approval_rate"
    out = tmp_path / "analysis.csv"
    written = runner.invoke(app, ["experiment", "analyze", "credit", "--metric", "approval_rate",
                                  "--as-of", AS_OF, *repo, "--out", str(out)])  # fmt: skip
    assert written.exit_code == 0, written.output
    rows = pd.read_csv(out)
    assert rows["metric"].tolist() == ["approval_rate"] and rows["arm"].tolist() == ["treatment"]
    compared = _json("experiment", "compare", "credit", "--as-of", AS_OF, *repo)
    assert {"champion", "challenger", "recommendation", "reasons", "pairs"} <= set(compared)
    compare_rows = tmp_path / "compare.parquet"
    written = runner.invoke(app, ["experiment", "compare", "credit", "--as-of", AS_OF, *repo,
                                  "--format", "parquet", "--out", str(compare_rows)])  # fmt: skip
    assert written.exit_code == 0, written.output
    assert pd.read_parquet(compare_rows)["role"].tolist() == ["champion", "challenger"]

    repo = ["--repo", str(served)]
    status = _json("deploy", "status", "credit", *repo)
    assert {"deployment", "rollout", "arms", "shadows", "last_change"} <= set(status)
    validated = _json("quality", "validate", str(served / "profiles.yaml"),
                      str(served / "data" / "profiles.parquet"), "--no-store", *repo)  # fmt: skip
    assert {"suite", "verdict", "health", "checks"} <= set(validated)
    shown = _json("models", "show", "credit-default", *repo)
    assert {"model", "policy", "versions", "history"} <= set(shown)
    assert {"require_four_eyes"} <= set(_json("models", "policy", "credit-default", *repo))
    moves = _json("models", "history", "credit-default", *repo)
    assert isinstance(moves, list)  # aliases set outside governance leave no moves
    assert _json("audit", "verify", *repo)["ok"] is True
    assert {"sample_size", "design"} <= set(
        _json("experiment", "plan", "--baseline", "0.05", "--mde", "0.1")
    )


def test_format_errors_are_one_line() -> None:
    for args, needle in (
        (["--json", "--format", "csv"], "--json or --format csv"),
        (["--format", "parquet"], "--format parquet writes a file"),
        (["--out", "x.txt"], "give --format json, csv or parquet"),
    ):
        result = runner.invoke(app, ["models", "list", *args])
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1 and needle in result.output


def test_a_non_terminal_run_prints_long_values_whole(
    logged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.ui.terminal import console as consoles

    monkeypatch.setattr(consoles.console, "_width", None)  # undo the tests' wide console
    long = "x" * 300
    sql = f"SELECT '{long}' AS long_value, 1 AS n"
    result = CliRunner().invoke(app, ["predictions", "query", sql, "--repo", str(logged)])
    assert result.exit_code == 0, result.output
    assert long in result.stdout and "…" not in result.stdout


def _same_rows(got: list[dict[str, Any]], want: list[dict[str, Any]], *, exact: bool) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            if key not in VOLATILE:
                assert _same(g[key], value, exact), (key, g[key], value)


def _same(got: Any, want: Any, exact: bool) -> bool:
    missing = got is None or (isinstance(got, float) and math.isnan(got))
    if not exact:  # CSV writes null and "" alike
        missing, want = missing or got == "", None if want == "" else want
    if want is None or missing:
        return want is None and missing
    if exact:
        return bool(got == want)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return math.isclose(float(got), float(want), rel_tol=1e-12)
    return str(got) == str(want)
