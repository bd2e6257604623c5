"""`cairn retrain status`: where each retraining policy of ``retraining.yaml`` stands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import open_project
from cairn.core.errors import DataError

app = typer.Typer(
    help=(
        "Retraining policies (retraining.yaml): schedules and monitoring triggers, cooldown "
        "and budget, and the ledger of every decision."
    ),
    no_args_is_help=True,
)


@app.command()
@one_line_errors
def status(
    policy: Annotated[
        str | None, typer.Option("--policy", "-p", help="One policy (default: every one).")
    ] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Per policy: the next scheduled slot, the cooldown and budget left, the last monitoring
    run and its signals, the latest ledger entries, and what would be decided now (nothing is
    recorded).

    Example: cairn retrain status --policy credit-monthly --json
    """
    from cairn.core.timeutil import to_micros, utcnow
    from cairn.monitoring.history import MonitorHistory
    from cairn.retraining.ledger import Ledger
    from cairn.retraining.observations import observations
    from cairn.retraining.policy import RETRAINING_FILE, load_policies
    from cairn.retraining.status import policy_status

    project = open_project(repo)
    policies = load_policies(project.root / RETRAINING_FILE)
    if policy is not None and policy not in policies:
        known = ", ".join(policies) or "none"
        raise DataError(f"--policy {policy!r} is not in {RETRAINING_FILE}; policies: {known}.")
    chosen = {policy: policies[policy]} if policy is not None else policies
    ledger = Ledger(project.metadata, project=project.name)
    history = MonitorHistory(project.metadata, project=project.name)  # not the registry: fast
    now = to_micros(utcnow())
    rows: list[dict[str, Any]] = []
    for name, p in chosen.items():
        deployment = project.deployments().get(p.deployment)
        model = None if deployment is None else re.split("[@/]", deployment.model)[0]
        seen = observations(history, p.deployment, model=model)
        rows.append(
            policy_status(name, p, now=now, observations=seen, past=ledger.entries(name)).to_dict()
        )
    emit_json(rows, as_json, lambda: _show(rows))


def _show(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        console.print(
            "No retraining policy: write retraining.yaml (`cairn config schema retraining`)."
        )
        return
    table = Table(
        "policy", "deployment", "next slot", "cooldown left", "budget", "last monitoring",
        "would decide now", title="Retraining policies",
    )  # fmt: skip
    for r in rows:
        last = r["last_monitoring"]
        seen = "-" if last is None else f"#{last['run_id']} {last['window_end'][:16]}"
        if last is not None and last["signals"]:
            seen += f" ({len(last['signals'])} signals)"
        table.add_row(
            r["policy"],
            r["deployment"],
            r["next_slot"] or "-",
            f"{r['cooldown_left_s'] / 3600:.1f} h" if r["cooldown_left_s"] else "-",
            f"{r['budget']['used']}/{r['budget']['max_runs']}",
            seen,
            "; ".join(f"{d['action']} {d['trigger']}: {d['reason']}" for d in r["would_decide"])
            or "nothing",
        )
    console.print(table)
    for r in rows:
        for e in r["ledger"]:
            console.print(
                f"  {r['policy']} ledger #{e['id']}: {e['action']} {e['trigger']} "
                f"[{e['window']}] {e['state']}: {e['reason']}",
                highlight=False,
            )


from cairn.cli.retrain_backtest import backtest as _backtest  # noqa: E402

app.command("backtest")(_backtest)
