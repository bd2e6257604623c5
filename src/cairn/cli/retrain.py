"""`cairn retrain watch|run|status`: the retraining controller and where each policy of
``retraining.yaml`` stands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli._auth import TokenFileOption, bearer_token
from cairn.cli._console import CheckFailed, RepoOption, console, one_line_errors
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import open_project
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.auth.principal import Principal
    from cairn.retraining.controller import RetrainController, RetrainStep

app = typer.Typer(
    help=(
        "Retraining policies (retraining.yaml): the controller that decides, trains, gates "
        "and proposes candidates, and the ledger of every decision."
    ),
    no_args_is_help=True,
)


@app.command()
@one_line_errors
def watch(
    once: Annotated[bool, typer.Option("--once", help="Evaluate once and exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between evaluations (default: retraining.interval_seconds)."),
    ] = None,
    token_file: TokenFileOption = None,
    repo: RepoOption = Path("."),
    as_json: Annotated[
        bool, typer.Option("--json", help="With --once: print the steps as JSON.")
    ] = False,
) -> None:
    """Run the retraining controller: decide from schedules and monitoring signals, record
    each decision in the ledger, train, gate, and walk passing candidates to shadow, a canary
    proposal and a second person's approval (Ctrl-C stops). One controller per project acts;
    another one waits and takes over when it stops.

    With a token (--token-file or CAIRN_TOKEN; deployer role) the controller acts as its
    principal, the author of the versions it trains; without one as cairn-retrain.

    Example: cairn retrain watch --repo ./credit --interval 60
    """
    import threading

    from rich.markup import escape

    if as_json and not once:
        raise ConfigError("--json prints one evaluation: give --once with it.")
    project = open_project(repo)
    controller = _controller(project, token_file)

    def show(steps: list[RetrainStep]) -> None:
        for s in steps:
            console.print(escape(s.line()), highlight=False)

    if once:
        steps = controller.run_once()
        emit_json([s.to_dict() for s in steps], as_json, lambda: show(steps) if steps else
                  console.print("Nothing to do."))  # fmt: skip
        return
    every = interval if interval is not None else _settings(project).interval_seconds
    if every <= 0:
        raise ConfigError(f"--interval must be a positive number of seconds; got {every:g}.")
    stop = threading.Event()

    def standby() -> None:
        console.print("Another retraining controller is active; standing by to take over.")

    def active() -> None:
        console.print(
            f"Retraining controller active for project {project.name} ({controller.holder()}), "
            f"acting as {controller.principal.name}, every {every:g} s."
        )

    def lost() -> None:
        console.print(
            "Lost leadership: the retraining controller lock ended with its database connection; "
            "stopped acting, standing by."
        )

    try:
        controller.run(
            stop,
            interval=every,
            on_steps=show,
            on_standby=standby,
            on_active=active,
            on_lost=lost,
        )
    except KeyboardInterrupt:
        stop.set()


@app.command()
@one_line_errors
def run(
    policy: Annotated[str, typer.Option("--policy", "-p", help="The policy to run.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the ledger and the audit log).")] = (
        "manual"
    ),
    key: Annotated[
        str | None,
        typer.Option(
            help="Names this request: asking twice with one key is one run (pass your "
            "scheduler's run id or logical date; default: the reason and today's UTC date)."
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            help="Seconds to wait for a running controller's lock before leaving the run to it."
        ),
    ] = 30.0,
    token_file: TokenFileOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Ask for one run of a policy now (idempotent, for Airflow, Dagster, Prefect or cron):
    the request is recorded in the ledger under its key, then trained, gated and, when it
    passes, made a shadow challenger, as `cairn retrain watch` would. When a controller is
    already running, the request is left to it.

    Exit 1 when the run was skipped (another run in flight) or refused by its gates.

    Example: cairn retrain run --policy credit-drift --reason "new bureau data" --key 2026-12-07
    """
    from cairn.core.timeutil import utcnow
    from cairn.retraining.inputs import ManualRequest

    project = open_project(repo)
    controller = _controller(project, token_file)
    request = ManualRequest(
        key or f"{reason}@{utcnow():%Y-%m-%d}", reason, controller.principal.name
    )
    steps = controller.run_once(policy=policy, manual=request, wait=wait)
    entry = next(
        (e for e in controller.ledger.entries(policy) if e.window == request.key
         and e.trigger == "manual"), None,
    )  # fmt: skip
    out = {
        "entry": None if entry is None else entry.to_dict(),
        "steps": [s.to_dict() for s in steps],
    }
    emit_json(out, as_json, lambda: _show_run(steps, entry))
    if entry is not None and entry.state in ("skipped", "refused", "failed"):
        raise CheckFailed(f"{policy} #{entry.id} {entry.state}: {entry.reason}")


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
    from cairn.retraining.status import project_status

    project = open_project(repo)
    rows: list[dict[str, Any]] = [s.to_dict() for s in project_status(project, policy)]
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


def _settings(project: Project) -> Any:
    return project.settings.retraining


def _controller(project: Project, token_file: Path | None) -> RetrainController:
    from cairn.retraining.controller import RETRAINER, RetrainController
    from cairn.retraining.notify import Notifier

    token = bearer_token(token_file)
    who: Principal = RETRAINER
    if token:
        who = project.authenticate(token)
        who.require("deployer", "run the retraining controller")
    notifier = Notifier.from_settings(_settings(project))

    def notify(entry: Any, event: str, numbers: dict[str, Any]) -> None:
        notifier.send(entry, event=event, project=project.name, detail=numbers)

    return RetrainController(project, principal=who, notify=notify)


def _show_run(steps: list[RetrainStep], entry: Any) -> None:
    from rich.markup import escape

    for s in steps:
        console.print(escape(s.line()), highlight=False)
    if entry is not None:
        console.print(
            f"ledger #{entry.id}: {entry.action} {entry.trigger} [{entry.window}] "
            f"{entry.state}: {escape(entry.reason)}",
            highlight=False,
        )


from cairn.cli.retrain_backtest import backtest as _backtest  # noqa: E402

app.command("backtest")(_backtest)
