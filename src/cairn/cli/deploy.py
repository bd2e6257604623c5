"""`cairn deploy create|set|switch|promote|rollback|status|history|watch`: rollouts.

Thin commands over :class:`cairn.rollouts.service.RolloutService` (the same service the HTTP admin
routes call) and :class:`cairn.rollouts.controller.CanaryController`. Changes act with a token
(``--token-file`` or ``CAIRN_TOKEN``): the principal it proves is who acted (create, set,
switch, rollback: deployer; promote: approver). ``--server URL`` sends the change to a running
``cairn serve`` instead of the local project.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli._auth import ServerOption, TokenFileOption, acting_principal, remote, require_token
from cairn.cli._console import RepoOption, console, err_console, one_line_errors
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import open_project
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    from cairn.auth import Principal
    from cairn.rollouts import RolloutService
    from cairn.rollouts.requests import RolloutUpdate

app = typer.Typer(
    help="Rollouts: single, blue-green, canary with automatic gates, A/B, shadow models.",
    no_args_is_help=True,
)
DeploymentArg = Annotated[str, typer.Argument(help="Deployment name (in deployments.yaml).")]
ReasonOption = Annotated[str, typer.Option(help="Why (kept in the rollout history and audit log).")]
ShadowOption = Annotated[
    list[str] | None,
    typer.Option("--shadow", help="A model scored off the request path (repeatable)."),
]
StagesOption = Annotated[
    str | None, typer.Option(help="Canary stages in %, increasing, ending at 100: 5,25,50,100.")
]
MinSamples = Annotated[int | None, typer.Option(help="Gate: rows per arm before a stage passes.")]
Alpha = Annotated[float | None, typer.Option(help="Gate: level of the one-sided tests.")]
NStar = Annotated[float | None, typer.Option(help="Gate: sequential tuning sample size.")]
ErrorRatio = Annotated[float | None, typer.Option(help="Gate: canary error rate ≤ this × control.")]
P99Ratio = Annotated[float | None, typer.Option(help="Gate: canary p99 ≤ this × control.")]
SrmP = Annotated[float | None, typer.Option(help="Gate: an SRM p-value below this holds.")]
Interval = Annotated[float | None, typer.Option(help="Gate: seconds between evaluations.")]


class Strategy(StrEnum):
    """A rollout strategy."""

    single = "single"
    blue_green = "blue-green"
    canary = "canary"
    ab = "ab"


class Settable(StrEnum):
    """States an operator may set."""

    active = "active"
    held = "held"


def _service(repo: Path) -> RolloutService:
    return open_project(repo).rollouts


def _change(
    deployment: str,
    verb: str,
    *,
    repo: Path,
    token_file: Path | None,
    server: str | None,
    as_json: bool,
    local: Callable[[RolloutService, Principal], RolloutUpdate],
    path: str,
    body: dict[str, Any],
) -> None:
    """Make one rollout change as the token's principal: locally, or on ``server``."""
    from cairn.ui.terminal.rollouts import print_update

    doing = f"change the rollout of {deployment}"
    if server is not None:
        token = require_token(token_file, doing)
        data = remote(server, token, "POST", f"/v1/deployments/{deployment}/rollout{path}", body)
        emit_json(data, as_json, lambda: _print_remote(data, verb))
        return
    project = open_project(repo)
    who = acting_principal(project, token_file, doing)
    done = local(project.rollouts, who)
    emit_json(done.to_json(), as_json, lambda: print_update(done, verb))


def _print_remote(data: dict[str, Any], verb: str) -> None:
    from rich.markup import escape

    spec, shares = data["rollout"], data["weights"]
    weights = ", ".join(f"{a['name']} {a['model']} {shares[a['name']]:.0%}" for a in spec["arms"])
    console.print(
        f"{spec['deployment']}: {verb} -> {spec['strategy']} ({spec['state']}) "
        f"v{spec['version']}: {weights}",
        highlight=False,
    )
    for note in data.get("notes", []):
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


@app.command()
@one_line_errors
def create(
    deployment: DeploymentArg,
    strategy: Annotated[Strategy, typer.Option(help="single, blue-green, canary or ab.")],
    model: Annotated[
        str | None, typer.Option(help="single: the model (NAME@ALIAS or NAME/VERSION).")
    ] = None,
    candidate: Annotated[str | None, typer.Option(help="canary: the model rolled out.")] = None,
    control: Annotated[
        str | None, typer.Option(help="canary: the model compared with (default: current).")
    ] = None,
    blue: Annotated[
        str | None, typer.Option(help="blue-green: blue slot (default: current).")
    ] = None,
    green: Annotated[str | None, typer.Option(help="blue-green: green slot.")] = None,
    live: Annotated[str | None, typer.Option(help="blue-green: the live slot (blue).")] = None,
    arm: Annotated[
        list[str] | None, typer.Option("--arm", help="ab: NAME=MODEL[:WEIGHT] (repeatable).")
    ] = None,
    coverage: Annotated[float | None, typer.Option(help="ab: share of units in the test.")] = None,
    seed: Annotated[str | None, typer.Option(help="Assignment seed (default: a new one).")] = None,
    stages: StagesOption = None,
    min_samples: MinSamples = None,
    alpha: Alpha = None,
    n_star: NStar = None,
    error_ratio: ErrorRatio = None,
    p99_ratio: P99Ratio = None,
    srm_p: SrmP = None,
    interval: Interval = None,
    shadow: ShadowOption = None,
    replace: Annotated[bool, typer.Option(help="Replace an active rollout.")] = False,
    reason: ReasonOption = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Start a rollout: one model, two blue-green slots, a gated canary or an A/B test.

    Example: cairn deploy create credit --strategy canary --candidate credit-default@challenger
    --stages 5,25,50,100 --min-samples 200
    """
    request: dict[str, Any] = {"strategy": strategy.value}
    given = {
        "model": model,
        "candidate": candidate,
        "control": control,
        "blue": blue,
        "green": green,
        "live": live,
        "coverage": coverage,
        "seed": seed,
    }
    request.update({k: v for k, v in given.items() if v is not None})
    if arm:
        request["arms"] = _arms(arm)
    if stages is not None:
        request["stages"] = _stages(stages)
    gate = _gate(min_samples, alpha, n_star, error_ratio, p99_ratio, srm_p, interval)
    if gate:
        request["gate"] = gate
    if shadow:
        request["shadows"] = list(shadow)
    _change(
        deployment,
        "created",
        repo=repo,
        token_file=token_file,
        server=server,
        as_json=as_json,
        local=lambda svc, who: svc.create(
            deployment, request, principal=who, reason=reason, replace=replace
        ),
        path="",
        body={**request, "reason": reason, "replace": replace},
    )


@app.command("set")
@one_line_errors
def set_(
    deployment: DeploymentArg,
    weight: Annotated[
        list[str] | None, typer.Option("--weight", help="ab: NAME=WEIGHT (repeatable).")
    ] = None,
    stages: StagesOption = None,
    stage: Annotated[int | None, typer.Option(help="canary: jump to this stage index.")] = None,
    min_samples: MinSamples = None,
    alpha: Alpha = None,
    n_star: NStar = None,
    error_ratio: ErrorRatio = None,
    p99_ratio: P99Ratio = None,
    srm_p: SrmP = None,
    interval: Interval = None,
    shadow: ShadowOption = None,
    no_shadows: Annotated[bool, typer.Option("--no-shadows", help="Stop every shadow.")] = False,
    coverage: Annotated[float | None, typer.Option(help="ab: share of units in the test.")] = None,
    state: Annotated[
        Settable | None, typer.Option(help="active resumes a held rollout; held pauses it.")
    ] = None,
    reason: ReasonOption = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Change the current rollout: weights, stages, gate, shadows, coverage, state.

    Example: cairn deploy set credit --weight a=0.3 --weight b=0.7 --reason "more to b"
    """
    changes: dict[str, Any] = {}
    if weight:
        pairs = [_pair(w, "--weight", "NAME=WEIGHT") for w in weight]
        changes["weights"] = {name: _float(value, "--weight") for name, value in pairs}
    if stages is not None:
        changes["stages"] = _stages(stages)
    gate = _gate(min_samples, alpha, n_star, error_ratio, p99_ratio, srm_p, interval)
    if gate:
        changes["gate"] = gate
    if shadow and no_shadows:
        raise ConfigError("Give --shadow or --no-shadows, not both.")
    if shadow or no_shadows:
        changes["shadows"] = list(shadow or [])
    for key, value in (("stage", stage), ("coverage", coverage)):
        if value is not None:
            changes[key] = value
    if state is not None:
        changes["state"] = state.value
    _change(
        deployment,
        "changed",
        repo=repo,
        token_file=token_file,
        server=server,
        as_json=as_json,
        local=lambda svc, who: svc.set(deployment, changes, principal=who, reason=reason),
        path="",
        body={**changes, "reason": reason},
    )


@app.command()
@one_line_errors
def switch(
    deployment: DeploymentArg,
    to: Annotated[str | None, typer.Option(help="blue or green (default: the other).")] = None,
    reason: ReasonOption = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Blue-green: make the other slot live (one atomic change; its model must be approved).

    Example: cairn deploy switch credit --reason "MRR-2026-0042 go-live"
    """
    _change(
        deployment,
        "switched",
        repo=repo,
        token_file=token_file,
        server=server,
        as_json=as_json,
        local=lambda svc, who: svc.switch(deployment, principal=who, reason=reason, to=to),
        path="/switch",
        body={"reason": reason, **({"to": to} if to else {})},
    )


@app.command()
@one_line_errors
def promote(
    deployment: DeploymentArg,
    arm: Annotated[str | None, typer.Option(help="ab: the winning arm.")] = None,
    reason: ReasonOption = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Make the candidate champion (four eyes) and serve it alone.

    Example: cairn deploy promote credit --reason "MRR-2026-0042 canary passed"
    """
    _change(
        deployment,
        "promoted",
        repo=repo,
        token_file=token_file,
        server=server,
        as_json=as_json,
        local=lambda svc, who: svc.promote(deployment, principal=who, reason=reason, arm=arm),
        path="/promote",
        body={"reason": reason, **({"arm": arm} if arm else {})},
    )


@app.command()
@one_line_errors
def rollback(
    deployment: DeploymentArg,
    reason: ReasonOption = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Send all traffic back to the control (blue-green: the other slot) at once.

    Example: cairn deploy rollback credit --reason "latency alert"
    """
    _change(
        deployment,
        "rolled back",
        repo=repo,
        token_file=token_file,
        server=server,
        as_json=as_json,
        local=lambda svc, who: svc.rollback(deployment, principal=who, reason=reason),
        path="/rollback",
        body={"reason": reason},
    )


@app.command()
@one_line_errors
def status(
    deployment: DeploymentArg,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Show a deployment's rollout: arms, weights, versions, stage, last change and decision.

    Example: cairn deploy status credit --json
    """
    from cairn.ui.rows import rollout_rows

    chosen = output_format(fmt, as_json, out)
    info = _service(repo).status(deployment)
    emit(chosen, rollout_rows(info), lambda: _print_status(deployment, info), out=out, payload=info)


def _print_status(deployment: str, info: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    spec = info["rollout"]
    head = f"{deployment}: {spec['strategy']} ({spec['state']}), rollout version {spec['version']}"
    if spec["strategy"] == "canary":
        head += f", stage {spec['stage'] + 1}/{len(spec['stages'])} of {spec['stages']} %"
    table = Table("arm", "model", "version", "traffic", title=head, title_justify="left")
    for a in info["arms"]:
        table.add_row(a["name"], a["model"], a["version"] or "?", f"{a['weight']:.1%}")
    for s in info["shadows"]:
        table.add_row("shadow", s["model"], s["version"] or "?", "scored, not served")
    console.print(table)
    if info["last_change"]:
        c = info["last_change"]
        console.print(f"Last change: v{c['version']} by {c['actor']} at {c['at']}: {c['reason']}")
    if info["last_decision"]:
        d = info["last_decision"]
        console.print(f"Last gate decision: {d['action']} [{d['gate']}] {escape(d['reason'])}")


@app.command()
@one_line_errors
def history(
    deployment: DeploymentArg,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Every version of a deployment's rollout: who, when, why.

    Example: cairn deploy history credit --format csv --out rollouts.csv
    """
    from cairn.ui.output import jsonable

    chosen = output_format(fmt, as_json, out)
    changes = _service(repo).history(deployment)

    def show() -> None:
        from rich.markup import escape
        from rich.table import Table

        table = Table("version", "at", "actor", "strategy", "state", "weights", "reason")
        for c in changes:
            weights = ", ".join(f"{k} {v:.0%}" for k, v in c.spec.weights().items())
            table.add_row(
                str(c.version),
                f"{c.at:%Y-%m-%d %H:%M:%S}",
                c.actor,
                c.spec.strategy,
                c.spec.state,
                weights,
                escape(c.reason),
            )
        console.print(table)

    rows = [
        {
            "version": c.version,
            "at": c.at,
            "actor": c.actor,
            "reason": c.reason,
            "strategy": c.spec.strategy,
            "state": c.spec.state,
            "weights": c.spec.weights(),
            "spec": c.spec.to_dict(),
        }
        for c in changes
    ]
    emit(chosen, [jsonable(r) for r in rows], show, out=out)


@app.command()
@one_line_errors
def watch(
    once: Annotated[bool, typer.Option("--once", help="Evaluate once and exit.")] = False,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between evaluations (default: the gates').")
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            help="With --once: seconds to wait for a running controller's lock before leaving "
            "the evaluation to it."
        ),
    ] = 10.0,
    repo: RepoOption = Path("."),
    as_json: Annotated[
        bool, typer.Option("--json", help="With --once: print the steps as JSON.")
    ] = False,
) -> None:
    """Run the canary controller: judge every active canary's gates from the prediction log,
    advance, promote or roll back (Ctrl-C stops). One controller per project acts; another one
    stands by and takes over when it stops or dies.

    Example: cairn deploy watch --repo ./credit --interval 10
    """
    import os
    import socket

    from rich.markup import escape

    from cairn.rollouts.controller import CanaryController, ControllerStep

    if as_json and not once:
        raise ConfigError("--json prints one evaluation: give --once with it.")
    if interval is not None and interval <= 0:
        raise ConfigError(f"--interval must be a positive number of seconds; got {interval:g}.")
    if wait < 0:
        raise ConfigError(f"--wait must be 0 or more seconds; got {wait:g}.")
    project = open_project(repo)
    controller = CanaryController(project.rollouts, project.predictions)

    def show(steps: list[ControllerStep]) -> None:
        for s in steps:
            console.print(escape(s.line()), highlight=False)

    if once:
        steps = controller.run_once(wait=wait)
        if as_json:
            emit_json(steps, True, lambda: None)
            return
        show(steps)
        if not steps:
            console.print("No active canary.")
        return
    stop = threading.Event()

    def standby() -> None:
        console.print("Another canary controller is active; standing by to take over.")

    def active() -> None:
        every = f"every {interval:g} s" if interval is not None else "at the gates' intervals"
        console.print(
            f"Canary controller active for project {project.name} "
            f"({socket.gethostname()}:{os.getpid()}), {every}."
        )

    def lost() -> None:
        console.print(
            "Lost leadership: the canary controller lock ended with its database connection; "
            "stopped acting, standing by."
        )

    try:
        controller.run(
            stop,
            interval=interval,
            on_steps=show,
            on_standby=standby,
            on_active=active,
            on_lost=lost,
        )
    except KeyboardInterrupt:
        stop.set()


def _pair(text: str, option: str, form: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ConfigError(f"{option} must be {form}; got {text!r}.")
    return name.strip(), value.strip()


def _float(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{option} needs a number; got {text!r}.") from None


def _arms(specs: list[str]) -> list[dict[str, Any]]:
    arms: list[dict[str, Any]] = []
    for text in specs:
        name, rest = _pair(text, "--arm", "NAME=MODEL[:WEIGHT]")
        model, sep, weight = rest.rpartition(":")
        arm: dict[str, Any] = {"name": name, "model": model if sep else rest}
        if sep:
            arm["weight"] = _float(weight, "--arm weight")
        arms.append(arm)
    if all("weight" not in a for a in arms):
        for a in arms:
            a["weight"] = 1 / len(arms)
    elif any("weight" not in a for a in arms):
        raise ConfigError("Give every --arm a weight (NAME=MODEL:WEIGHT) or none (equal split).")
    return arms


def _stages(text: str) -> list[float]:
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(
            f"--stages must be percentages separated by commas, like 5,25,50,100; got {text!r}."
        ) from None


def _gate(
    min_samples: int | None,
    alpha: float | None,
    n_star: float | None,
    error_ratio: float | None,
    p99_ratio: float | None,
    srm_p: float | None,
    interval: float | None,
) -> dict[str, Any]:
    values = {
        "min_samples": min_samples,
        "alpha": alpha,
        "n_star": n_star,
        "error_ratio": error_ratio,
        "p99_ratio": p99_ratio,
        "srm_p": srm_p,
        "interval_s": interval,
    }
    return {k: v for k, v in values.items() if v is not None}
