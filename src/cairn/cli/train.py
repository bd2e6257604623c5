"""`cairn train`: fit, evaluate, log to MLflow and register a model version (or reproduce one)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._auth import TokenFileOption, bearer_token
from cairn.cli._console import RepoOption, console, fail, one_line_errors
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import current_user, open_project
from cairn.core.errors import ConfigError


@one_line_errors
def train(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Training config (YAML); relative paths also resolve in --repo."
        ),
    ] = None,
    reproduce_run: Annotated[
        str | None,
        typer.Option(
            "--reproduce",
            help="Rebuild this run's training set, check it hashes the same, and train again.",
        ),
    ] = None,
    register: Annotated[
        bool | None,
        typer.Option(
            "--register/--no-register",
            help="Register the model version (default: the config's 'register', true; "
            "a reproduction is not registered unless asked).",
        ),
    ] = None,
    token_file: TokenFileOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Train a model on a training set from the offline store and log everything to MLflow.

    With a token (--token-file or CAIRN_TOKEN) the version's author is the token's principal,
    tagged authenticated; without one it is CAIRN_USER or the OS user, tagged unauthenticated.

    Example: cairn train --config train.yaml --repo ./credit --token-file ana.token
    (or: cairn train --reproduce 3f2c...e1 --repo ./credit)
    """
    from cairn.training import TrainConfig, reproduce
    from cairn.training import train as train_model
    from cairn.ui.terminal.training import print_result

    if (config is None) == (reproduce_run is None):
        raise fail("give either --config FILE (train) or --reproduce RUN_ID (reproduce a run).")
    project = open_project(repo)
    token = bearer_token(token_file)
    who = project.authenticate(token) if token else None
    author = who.name if who is not None else current_user()
    via = who.via if who is not None else None
    status = console.status("training")
    with status:
        tick = lambda step: status.update(f"[bold]{step}")  # noqa: E731
        if reproduce_run is not None:
            result = reproduce(
                reproduce_run,
                project.features,
                project.tracker,
                author=author,
                author_via=via,
                register=bool(register),
                audit=project.registry.audit,
                progress=tick,
            )
        else:
            assert config is not None
            cfg = TrainConfig.from_yaml(_config_path(config, repo))
            if register is not None:
                cfg = replace(cfg, register=register)
            trained = train_model(
                cfg,
                project.features,
                project.tracker,
                author=author,
                author_via=via,
                audit=project.registry.audit,
                progress=tick,
            )
    if reproduce_run is not None and as_json:
        emit_json(result, True, lambda: None)
        return
    if reproduce_run is not None:
        console.print(
            f"Reproduced run {reproduce_run}: the rebuilt training set hashes to the same "
            f"manifest digest {result.digest[:16]}…"
        )
        print_result(result.result)
        verdict = "identical" if result.identical_metrics else "different"
        worst = max((abs(d) for d in result.metric_deltas.values()), default=0.0)
        console.print(
            f"Metrics are {verdict} to the original run (largest difference {worst:.3g})."
        )
        return
    emit_json(trained, as_json, lambda: print_result(trained))


def _config_path(config: Path, repo: Path) -> Path:
    if config.is_file() or config.is_absolute():
        return config
    inside = repo / config
    if inside.is_file():
        return inside
    raise ConfigError(
        f"--config {config}: no such file in {Path.cwd()} or in the project folder "
        f"{repo.resolve()}; expected a training config such as train.yaml."
    )
