"""`cairn retrain backtest`: replay a retraining policy over history on a simulated clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, one_line_errors, parse_time
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import open_project

__all__ = ["backtest"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@one_line_errors
def backtest(
    policy: Annotated[
        str, typer.Option("--policy", "-p", help="The policy of retraining.yaml to replay.")
    ],
    start: Annotated[
        str,
        typer.Option(
            "--from", help="Start of the replay: an ISO date (UTC midnight) or time with a zone."
        ),
    ],
    end: Annotated[
        str, typer.Option("--to", help="End of the replay (ISO date or time, or now).")
    ] = "now",
    every: Annotated[
        str, typer.Option("--every", help="Step of the simulated clock and width of a window.")
    ] = "30d",
    fixed: Annotated[
        str | None,
        typer.Option(
            "--fixed-every",
            help="Period of the fixed schedule compared with (default: the policy's cron, "
            "else 90d).",
        ),
    ] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Replay history on a simulated clock: monitoring windows, signals, decisions, training
    on the data known at each time, gates. Reports when the policy would have retrained and
    why, and the AUC of its model in force against never retraining and a fixed schedule.
    Deterministic; nothing is written (no MLflow run, registry version, ledger or audit entry).

    Example: cairn retrain backtest --policy credit-drift --from 2025-07-01 --to 2026-07-01
    """
    from cairn.core.timeutil import parse_duration
    from cairn.retraining.backtest import backtest as replay

    step = parse_duration(every, owner="--every")
    period = None if fixed is None else parse_duration(fixed, owner="--fixed-every")
    start_at, end_at = _instant(start, "--from"), _instant(end, "--to")
    report = replay(
        open_project(repo), policy, start=start_at, end=end_at, every=step, fixed_every=period
    )

    def show() -> None:
        from cairn.ui.terminal.backtest import print_backtest

        print_backtest(report)

    emit_json(report.to_dict(), as_json, show)


def _instant(value: str, name: str) -> datetime:
    """An ISO date (midnight UTC), an ISO time with a zone, or ``now``."""
    text = value.strip()
    if _DATE.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            pass  # parse_time says what is wrong
    return parse_time(text, name)
