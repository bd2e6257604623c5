"""`cairn quality validate|history|suggest` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.cli.main import app

runner = CliRunner()
SUITE = """\
name: orders
expectations:
  - expect_column_values_to_not_be_null: {column: id}
  - expect_column_values_to_be_between: {column: amount, min_value: 0, severity: medium}
"""


@pytest.fixture
def files(repo: Path) -> Path:
    (repo / "orders.yaml").write_text(SUITE)
    pd.DataFrame({"id": [1, 2, 3], "amount": [5.0, -1.0, 2.0]}).to_parquet(repo / "warn.parquet")
    pd.DataFrame({"id": [1, None], "amount": [5.0, 1.0]}).to_parquet(repo / "halt.parquet")
    return repo


def test_validate_prints_checks_and_exits_by_action(files: Path) -> None:
    args = ["quality", "validate", str(files / "orders.yaml")]
    warn = runner.invoke(app, [*args, str(files / "warn.parquet"), "--repo", str(files)])
    assert warn.exit_code == 0, warn.output
    assert "values_to_be_between" in warn.output and "warn" in warn.output
    assert "Health" in warn.output and "row 1 (amount=-1.0)" in warn.output
    assert "Stored as run 1" in warn.output
    halt = runner.invoke(app, [*args, str(files / "halt.parquet"), "--repo", str(files)])
    assert halt.exit_code == 1 and "halt" in halt.output
    as_json = runner.invoke(app, [*args, str(files / "halt.parquet"), "--json", "--no-store"])
    assert as_json.exit_code == 1 and '"verdict": "failed"' in as_json.output
    history = runner.invoke(app, ["quality", "history", "orders", "--repo", str(files)])
    assert history.exit_code == 0
    assert history.output.index("halt.parquet") < history.output.index("warn.parquet")


def test_bad_input_is_one_line_and_exit_2(files: Path) -> None:
    (files / "bad.yaml").write_text("name: x\nexpectations:\n  - expect_nothing: {}\n")
    bad = runner.invoke(
        app, ["quality", "validate", str(files / "bad.yaml"), str(files / "warn.parquet")]
    )
    assert bad.exit_code == 2 and "bad.yaml:3: check #1" in bad.output
    missing = runner.invoke(
        app, ["quality", "validate", str(files / "orders.yaml"), "nope", "--repo", str(files)]
    )
    assert missing.exit_code == 2 and "no applied source named 'nope'" in missing.output


def test_suggest_writes_a_suite_and_profile(files: Path) -> None:
    out = files / "quality" / "warn.yaml"
    result = runner.invoke(
        app,
        ["quality", "suggest", str(files / "warn.parquet"), "-o", str(out),
         "--profile", str(files / "quality" / "ref" / "warn.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "expect_column_psi_to_be_less_than" in text and "reference: ref/warn.json" in text
    again = runner.invoke(
        app, ["quality", "validate", str(out), str(files / "warn.parquet"), "--no-store"]
    )
    assert again.exit_code == 0, again.output
    printed = runner.invoke(app, ["quality", "suggest", str(files / "warn.parquet")])
    assert printed.output.startswith("name: warn\n")


def test_as_of_and_values_that_look_like_markup(files: Path) -> None:
    (files / "fresh.yaml").write_text(
        "name: fresh\nexpectations:\n"
        "  - expect_data_to_be_fresh: {column: t, max_age: 1d}\n"
        "  - expect_column_values_to_be_in_set: {column: s, value_set: [ok], severity: low}\n"
    )
    frame = pd.DataFrame({"t": pd.to_datetime(["2026-01-01"], utc=True), "s": ["[bold]x[/]"]})
    frame.to_parquet(files / "f.parquet")
    base = [
        "quality",
        "validate",
        str(files / "fresh.yaml"),
        str(files / "f.parquet"),
        "--no-store",
    ]
    fresh = runner.invoke(app, [*base, "--as-of", "2026-01-01T12:00:00Z"])
    assert fresh.exit_code == 0, fresh.output
    assert "row 0 (s=[bold]x[/])" in fresh.output
    stale = runner.invoke(app, [*base, "--as-of", "2026-01-03T00:00:00+00:00"])
    assert stale.exit_code == 1
    naive = runner.invoke(app, [*base, "--as-of", "2026-01-03"])
    assert naive.exit_code == 2 and "--as-of must include a zone" in naive.output


def test_suggest_reads_an_applied_source_of_the_repo(tmp_path: Path) -> None:
    import json

    from tests.serving.conftest import write_project

    project = write_project(tmp_path / "p").path
    result = runner.invoke(app, ["quality", "suggest", "profiles", "--repo", str(project)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("name: profiles\n")
    as_json = runner.invoke(
        app, ["quality", "suggest", "profiles", "--repo", str(project), "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    checks = json.loads(as_json.stdout)["expectations"]
    about_keys = [c for c in checks if "customer_id" in json.dumps(c)]
    assert about_keys and not any("between" in json.dumps(c) for c in about_keys)
