"""`cairn experiment analyze|compare|plan`: tables, the HTML report, one-line errors (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli.experiment import parse_weights
from cairn.cli.main import app
from cairn.core.errors import ConfigError
from tests.experiments._log import write_log

runner = CliRunner(env={"COLUMNS": "200"})
AS_OF = "2026-04-10T00:00:00Z"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    (root / "cairn.yaml").write_text("project: cli\n")
    (root / "experiments.yaml").write_text(
        "min_completeness: 0.5\nmetrics:\n  default_rate: {maturity: 1d}\n"
    )
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion, threshold: 0.4}\n"
    )
    write_log(root, seed=9, units=800, seed_column="ab-1")
    return root


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_analyze_prints_tables_and_writes_the_report(project: Path) -> None:
    report = project / "report.html"
    code, out = _run(
        "experiment", "analyze", "credit", "--metric", "approval_rate", "--metric",
        "default_rate", "--segment", "features->>'region'", "--max-segments", "2",
        "--as-of", AS_OF, "--weights", "control=50,treatment=50", "--correction", "bh",
        "--html", str(report), "--repo", str(project),
    )  # fmt: skip
    assert code == 0, out
    assert "credit ab experiment ab-1: frequentist" in out and "SRM: p = " in out
    assert "approval_rate (proportion, goals, good: increase)" in out
    assert "north · treatment" in out and "(other) · treatment" in out
    assert "default_rate (proportion, goals, good: decrease)" in out
    assert report.is_file() and "<svg" in report.read_text()


def test_analyze_sequential_with_every_metric(project: Path) -> None:
    code, out = _run("experiment", "analyze", "credit", "--sequential", "--as-of", AS_OF,
                     "--repo", str(project))  # fmt: skip
    assert code == 0, out
    assert "sequential analysis" in out and "SRM not checked: no traffic weights" in out
    for name in ("approval_rate", "bad_rate_among_approved", "score", "latency_ms", "error_rate"):
        assert name in out


def test_compare_uses_the_deployment_threshold(project: Path) -> None:
    code, out = _run("experiment", "compare", "credit", "--as-of", AS_OF, "--repo", str(project))
    assert code == 0, out
    assert "(threshold 0.4)" in out and "champion credit-default/1" in out
    assert "Recommendation:" in out and "AUC" in out


def test_compare_states_its_maturity_and_takes_maturity(project: Path) -> None:
    code, out = _run("experiment", "compare", "credit", "--as-of", AS_OF, "--repo", str(project))
    assert code == 0, out
    assert "approve rate" in out  # the favorable decision of the credit vocabulary
    assert "Labels count for requests at least 24h old (no label maturity declared for " in out
    code, out = _run("experiment", "compare", "credit", "--as-of", AS_OF, "--maturity", "30d",
                     "--repo", str(project))  # fmt: skip
    assert code == 0, out
    assert "Labels count for requests at least 30d old (given with --maturity)." in out


def test_list_shows_the_logged_experiments(project: Path, tmp_path: Path) -> None:
    code, out = _run("experiment", "list", "credit", "--repo", str(project))
    assert code == 0 and "ab-1" in out and "control, treatment" in out, out
    code, out = _run("experiment", "list", "credit", "--repo", str(tmp_path))
    assert code == 2 and "No cairn.yaml" in out  # not a project
    (tmp_path / "cairn.yaml").write_text("project: empty\n")
    code, out = _run("experiment", "list", "credit", "--repo", str(tmp_path))
    assert code == 0 and "No experiments" in out


def test_plan_is_registered() -> None:
    code, out = _run("experiment", "plan", "--help")
    assert code == 0 and "--baseline" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "credit", "--metric", "nope"], "Unknown metric 'nope'"),
        (["analyze", "credit", "--correction", "sidak"], "--correction must be"),
        (["analyze", "credit", "--weights", "control:50"], "--weights must look like"),
        (["analyze", "credit", "--as-of", "yesterday"], "--as-of must be an ISO 8601 time"),
        (["analyze", "credit", "--control", "ghost"], "The control arm 'ghost'"),
        (["analyze", "credit", "--experiment", "nope"], "No experiment with seed 'nope'"),
        (["analyze", "credit", "--segment", "bogus"], "Segment 'bogus'"),
        (["compare", "credit", "--challenger", "x/9"], "No shadow predictions of 'x/9'"),
        (["compare", "credit", "--protected", "p.parquet"], "--protected needs --attribute"),
        (["compare", "credit", "--maturity", "soon"], "--maturity must be"),
    ],
)
def test_bad_input_exits_2_with_one_line(project: Path, args: list[str], message: str) -> None:
    code, out = _run("experiment", *args, "--repo", str(project))
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], out


def test_parse_weights() -> None:
    assert parse_weights("a=1,b=3") == {"a": 1.0, "b": 3.0}
    with pytest.raises(ConfigError):
        parse_weights("a=-1")
