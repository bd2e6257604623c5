"""A retraining backtest for a terminal: the windows, the decisions, the summary, the
assumptions (``cairn retrain backtest``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from cairn.core.timeutil import format_duration, from_micros
from cairn.ui.terminal.console import console

if TYPE_CHECKING:
    from cairn.retraining.backtest_report import BacktestReport, DecisionLine, WindowResult

__all__ = ["gate_text", "print_backtest", "summary_table"]

_STATE_STYLE = {"approved": "green", "refused": "red", "failed": "red", "skipped": "yellow"}


def print_backtest(report: BacktestReport) -> None:
    """The whole report, for people."""
    history, initial = report.history, report.initial
    console.print(
        f"[bold]Backtest of {escape(report.policy)}[/] (deployment {escape(report.deployment)}): "
        f"{from_micros(report.start):%Y-%m-%d} to {from_micros(report.end):%Y-%m-%d}, every "
        f"{format_duration(report.every)}, windows of {format_duration(report.window)}; "
        f"{history.get('rows', 0):,} history rows; {escape(report.labels)}.",
        highlight=False,
    )
    baseline = initial.get("baseline", {}).get("auc")
    rows = initial.get("rows", {})
    console.print(
        f"Initial model {initial.get('name')}: {rows.get('train', 0):,} train, "
        f"{rows.get('validation', 0):,} validation rows"
        + (f", validation AUC {baseline:.4f}" if baseline is not None else ""),
        highlight=False,
        markup=False,
    )
    console.print(_windows(report.windows, report.fixed))
    lines = report.decisions
    if lines:
        console.print(_decisions(lines))
    else:
        console.print("No decision: nothing fired in the replayed windows.", highlight=False)
    console.print(summary_table(report))
    for text in report.assumptions:
        console.print(f"  - {text}", highlight=False, markup=False, soft_wrap=True)


def _auc(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _windows(windows: list[WindowResult], fixed: str) -> Table:
    table = Table(
        "window end", "rows", "labeled", "policy model", "policy AUC", "never AUC",
        f"fixed AUC ({fixed})", "policy monitoring",
        title="Model in force per window (AUC on hindsight labels)", title_justify="left",
    )  # fmt: skip
    for w in windows:
        table.add_row(
            f"{from_micros(w.end):%Y-%m-%d}",
            f"{w.rows:,}",
            f"{w.labeled:,}",
            escape(w.model.get("policy", "-")),
            _auc(w.auc.get("policy")),
            _auc(w.auc.get("never")),
            _auc(w.auc.get("fixed")),
            escape(_seen(w)),
        )
    return table


def _seen(w: WindowResult) -> str:
    watch = w.watch
    if watch is None:
        return "no traffic of the model in force"
    signals = [s for s in watch.get("signals", []) if not s.startswith("performance:")]
    drift = ", ".join(signals) if signals else "no drift"
    drop = watch.get("drops", {}).get("auc")
    perf = watch.get("performance", "-")
    said = f"auc drop {drop:+.4f}" if perf == "judged" and drop is not None else perf
    return f"{drift}; {said}"


def _decisions(lines: list[DecisionLine]) -> Table:
    table = Table(
        "time", "strategy", "trigger", "action", "state", "reason", "gates",
        title="Decisions", title_justify="left",
    )  # fmt: skip
    for line in lines:
        d = line.decision
        style = _STATE_STYLE.get(line.state, "")
        state = line.state + (
            f" {from_micros(line.promoted_at):%Y-%m-%d}" if line.promoted_at else ""
        )
        table.add_row(
            f"{from_micros(d.at):%Y-%m-%d}",
            line.strategy,
            d.trigger,
            d.action,
            f"[{style}]{escape(state)}[/]" if style else escape(state),
            escape(d.reason),
            escape(gate_text(line)),
        )
    return table


def gate_text(line: DecisionLine) -> str:
    if line.error is not None:
        return f"not trained: {line.error}"
    gate = line.gate
    if gate is None:
        return "-"
    mine, theirs = gate.candidate.get("auc"), (gate.champion or {}).get("auc")
    head = f"auc {mine:.4f}" if mine is not None else "auc -"
    if theirs is not None:
        head += f" vs {theirs:.4f} in force"
    head += f" on {gate.rows:,} rows"
    return f"{head}: " + ("passed" if gate.passed else f"refused: {gate.describe()}")


def summary_table(report: BacktestReport) -> Table:
    table = Table(
        "strategy", "runs", "promoted", "refused", "skipped", "mean AUC", "last AUC",
        title="Summary", title_justify="left",
    )  # fmt: skip
    for name, s in report.summary().items():
        table.add_row(
            name,
            str(s["runs"]),
            str(s["promoted"]),
            str(s["refused"] + s["failed"]),
            str(s["skipped"]),
            _auc(s["mean_auc"]),
            _auc(s["last_auc"]),
        )
    return table
