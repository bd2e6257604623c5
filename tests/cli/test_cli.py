"""The `cairn` command end to end on the example project (a real run, no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.cli.main import app

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "credit"
    result = runner.invoke(app, ["init", str(path), "--template", "credit"])
    assert result.exit_code == 0, result.output
    assert "Next: cairn apply" in result.output
    return path


def test_apply_then_reapply_is_noop(project: Path) -> None:
    first = runner.invoke(app, ["apply", "--repo", str(project)])
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    again = runner.invoke(app, ["apply", "--repo", str(project)])
    assert again.exit_code == 0
    assert "created" not in again.output and "unchanged" in again.output
    listing = runner.invoke(app, ["features", "list", "--repo", str(project)])
    assert "txn_stats" in listing.output and "customer_profile" in listing.output


def test_training_set_command_writes_parquet_and_manifest(project: Path) -> None:
    runner.invoke(app, ["apply", "--repo", str(project)])
    out = project / "out" / "train.parquet"
    sql = "SELECT customer_id, event_timestamp FROM applications LIMIT 50"
    result = runner.invoke(
        app,
        [
            "training-set",
            sql,
            "-f",
            "customer_profile:income",
            "-f",
            "txn_stats:amount_sum_24h",
            "-o",
            str(out),
            "--repo",
            str(project),
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["customer_id", "event_timestamp", "income", "amount_sum_24h"]
    assert len(frame) == 50
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    assert manifest["row_count"] == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["training-set", "SELECT 1", "-f", "nope:x", "-o", "x.parquet"], "not applied"),
        (["apply"], "No cairn.yaml"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(
    project: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    repo = project if args[0] != "apply" else tmp_path
    result = runner.invoke(app, [*args, "--repo", str(repo)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_error_message_prints_brackets_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """A message holding Rich markup-like text (a regex, a list) prints verbatim."""
    from cairn.cli._console import fail

    exit_ = fail("columns must match [A-Za-z_]+; got [bold]x[/bold]")
    assert exit_.exit_code == 2
    err = capsys.readouterr().err
    assert "columns must match [A-Za-z_]+; got [bold]x[/bold]" in err


def test_init_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "not empty" in result.output


def test_every_command_has_help_with_an_example() -> None:
    for command in (
        ["init"],
        ["quickstart"],
        ["apply"],
        ["training-set"],
        ["features", "list"],
        ["materialize"],
        ["materialize-incremental"],
        ["status"],
        ["consistency", "check"],
        ["serve"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, command


def test_training_set_halts_on_a_failing_quality_suite(project: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["apply", "--repo", str(project)])
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: ts\nexpectations:\n  - expect_column_values_to_not_be_null: {column: income}\n"
    )
    out = tmp_path / "train.parquet"
    result = runner.invoke(
        app,
        [
            "training-set",
            "SELECT customer_id, event_timestamp FROM applications",
            "-f",
            "customer_profile:income",
            "-o",
            str(out),
            "--quality",
            str(suite),
            "--repo",
            str(project),
        ],
    )
    assert result.exit_code == 1  # a halt is the check saying no, as in `quality validate`
    assert "halted by quality suite 'ts'" in result.output and "income" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CAIRN_SHADOW_QUEUE": "abc"},
            "CAIRN_SHADOW_QUEUE (serving.shadow_queue) must be an integer of at least 1; "
            "got 'abc'.",
        ),
        (
            {"CAIRN_SERVING__DURABILITY": "sometimes"},
            "CAIRN_SERVING__DURABILITY (serving.durability) must be",
        ),
        ({"CAIRN_SERVING__MAX_BODY_BYTES": "-1"}, "serving.max_body_bytes) must be at least 1"),
    ],
)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_a_bad_setting_in_one_line_before_serving(
    project: Path, env: dict[str, str], message: str, workers: str
) -> None:
    result = runner.invoke(app, ["serve", "--repo", str(project), "--workers", workers], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
