"""Quality suite results for a terminal: every check, the health score, the verdict."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from cairn.quality import (
    Action,
    CheckResult,
    Dimension,
    ValidationResult,
)
from cairn.ui.terminal.console import console

if TYPE_CHECKING:
    pass


ACTION_STYLE = {
    Action.HALT: "bold red",
    Action.WARN: "yellow",
    Action.LOG: "cyan",
    Action.NONE: "green",
}


def print_result(result: ValidationResult, *, failing_rows: int = 3) -> None:
    """The Rich report of one run: every check, the health score, failing rows, verdict."""
    table = Table(
        "#",
        "check",
        "target",
        "layer",
        "severity",
        "result",
        "observed",
        "unexpected",
        "action",
        title=f"Suite {escape(result.suite)!r} on {escape(result.data)} ({result.rows:,} rows)",
        title_justify="left",
    )
    for c in result.checks:
        table.add_row(
            str(c.index),
            c.expectation.removeprefix("expect_"),
            escape(c.target),
            str(c.layer),
            str(c.severity),
            "[green]pass[/]" if c.success else "[red]FAIL[/]",
            escape(observed_text(c)),
            unexpected_text(c),
            "-" if c.success else f"[{ACTION_STYLE[c.action]}]{c.action}[/]",
        )
    console.print(table)
    print_health(result)
    for c in result.failures:
        if c.failing_rows:
            shown = ", ".join(_failing_row(r) for r in c.failing_rows[:failing_rows])
            more = (c.unexpected_count or 0) - min(failing_rows, len(c.failing_rows))
            tail = f" … and {more:,} more" if more > 0 else ""
            console.print(f"  #{c.index} failing rows: {shown}{tail}", markup=False)
        if c.message:
            console.print(f"  #{c.index}: {c.message}", markup=False)
    stored = f" Stored as run {result.run_id}." if result.run_id is not None else ""
    queries = f"{result.queries} {'query' if result.queries == 1 else 'queries'}"
    console.print(
        f"{verdict_text(result.verdict)}: action [{ACTION_STYLE[result.action]}]{result.action}[/] "
        f"({len(result.failures)} of {len(result.checks)} checks failed; {queries}, "
        f"{result.seconds:.2f} s).{stored}"
    )


def print_health(result: ValidationResult) -> None:
    """One line: the overall score and each dimension."""
    health = result.health
    dims = " · ".join(
        f"{d.value} {'-' if health.dimensions[d] is None else f'{health.dimensions[d]:.1f}'}"
        for d in Dimension
    )
    score = "-" if health.score is None else f"{health.score:.1f}"
    console.print(f"Health [bold]{score}[/] / 100  ({dims})")


def verdict_text(verdict: str) -> str:
    return "[green]passed[/]" if verdict == "passed" else "[bold red]FAILED[/]"


def observed_text(c: CheckResult) -> str:
    value = c.observed
    if c.unexpected_share is not None:
        return "-"  # a row-level check: see the unexpected column
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, dict) and "values" in value:
        text = ", ".join(f"{v:.4g}" for v in value["values"])
    else:
        text = json.dumps(value, default=str)
    if c.details.get("band"):
        text += f" ({c.details['band']})"
    return text if len(text) <= 40 else text[:37] + "..."


def unexpected_text(c: CheckResult) -> str:
    if c.unexpected_count is None:
        return "-"
    if c.unexpected_share is None:
        return f"{c.unexpected_count:,}"
    return f"{c.unexpected_count:,} ({c.unexpected_share:.2%})"


def _failing_row(row: Any) -> str:
    values = ", ".join(f"{k}={v}" for k, v in (row.get("values") or {}).items())
    return f"row {row.get('row')} ({values})"
