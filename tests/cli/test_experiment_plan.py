"""`cairn experiment plan`, registered on a throwaway Typer app as cli/experiment.py does."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from cairn.cli.experiment_plan import plan
from cairn.experiments.power import PowerDesign, sample_size

runner = CliRunner(env={"COLUMNS": "200"})
app = typer.Typer()
app.command("plan")(plan)
app.command("noop")(lambda: None)  # two commands, so "plan" stays a subcommand

ISSUE = "--baseline 0.05 --mde 0.10 --alpha 0.05 --power 0.8 --weights 50,25,25 --daily-units 20000"


def test_issue_example_prints_units_per_arm_days_and_mde() -> None:
    result = runner.invoke(app, ["plan", *ISSUE.split()])
    assert result.exit_code == 0, result.output
    want = sample_size(PowerDesign(0.05, (50, 25, 25), daily_units=20_000), 0.10)
    for arm in want.arms:
        assert arm.name in result.output and f"{arm.units:,}" in result.output
    assert f"Total: {want.total_units:,} units over {want.days:,.1f} days" in result.output
    assert f"({want.whole_days} whole days) at 20,000 units/day" in result.output
    assert "Minimum detectable effect: +10.00% relative (5.00% → 5.50%)" in result.output


def test_days_gives_the_mde_for_that_duration() -> None:
    result = runner.invoke(
        app, ["plan", "--baseline", "0.05", "--days", "14", "--daily-units", "20000"]
    )
    assert result.exit_code == 0, result.output
    assert "In 14 days (280,000 units) the minimum detectable effect is +4.78% relative" in (
        result.output
    )


def test_sequential_mean_metric_absolute_with_correction() -> None:
    args = "plan --baseline 12 --metric mean --std 8 --absolute --mde 0.5 --sequential"
    result = runner.invoke(app, [*args.split(), "--weights", "2,1,1", "--correction", "holm"])
    assert result.exit_code == 0, result.output
    assert "Sequential: always-valid confidence sequence tuned at n_star" in result.output
    assert "Each comparison at α = 0.025 (holm over 2 treatments)" in result.output
    assert "+0.5 absolute (12 → 12.5)" in result.output


def test_bad_input_is_one_line() -> None:
    for args, message in [
        (["--baseline", "0.05"], "give --mde"),
        (["--baseline", "0.05", "--mde", "0.1", "--weights", "50,x"], "--weights must be"),
        (["--baseline", "1.5", "--mde", "0.1"], "baseline of a proportion metric"),
        (["--baseline", "3", "--mde", "0.1", "--metric", "mean"], "std is required"),
        (["--baseline", "0.05", "--days", "3"], "daily_units"),
    ]:
        result = runner.invoke(app, ["plan", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output


def test_help_shows_the_example() -> None:
    result = runner.invoke(app, ["plan", "--help"])
    assert "cairn experiment plan --baseline 0.05" in result.output
