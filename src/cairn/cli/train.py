"""`cairn train`: fit, evaluate, log to MLflow and register a model version (or reproduce one)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cairn.cli._console import RepoOption, console, fail, one_line_errors
from cairn.cli._project import ProjectContext
from cairn.core.errors import ConfigError
from cairn.training import TrainConfig, TrainingResult, reproduce
from cairn.training import train as train_model


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
    repo: RepoOption = Path("."),
) -> None:
    """Train a model on a training set from the offline store and log everything to MLflow.

    Example: cairn train --config train.yaml --repo ./credit
    (or: cairn train --reproduce 3f2c...e1 --repo ./credit)
    """
    if (config is None) == (reproduce_run is None):
        raise fail("give either --config FILE (train) or --reproduce RUN_ID (reproduce a run).")
    project = ProjectContext(repo)
    status = console.status("training")
    with status:
        tick = lambda step: status.update(f"[bold]{step}")  # noqa: E731
        if reproduce_run is not None:
            result = reproduce(
                reproduce_run,
                project.store,
                project.tracker,
                author=project.user,
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
                project.store,
                project.tracker,
                author=project.user,
                audit=project.registry.audit,
                progress=tick,
            )
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
    print_result(trained)


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


def print_result(result: TrainingResult) -> None:
    """The metrics, importance, data version and registration of one training run."""
    m = result.metrics
    table = Table("metric", "validation", "train", title=f"Run {result.run_id} ({result.flavor})")
    for key in ("auc", "gini", "ks", "precision", "recall", "brier", "positive_rate", "rows"):
        fmt = "{:,.0f}" if key == "rows" else "{:.4f}"
        table.add_row(key, fmt.format(m[f"valid_{key}"]), fmt.format(m[f"train_{key}"]))
    console.print(table)
    top = ", ".join(f"{name} {value:.3g}" for name, value in result.importance.top(5))
    console.print(f"Top features ({result.importance.method}): {top}")
    split = result.split
    console.print(
        f"Time split at {split.cutoff:%Y-%m-%d %H:%M} UTC: {len(split.train):,} train rows, "
        f"{len(split.validation):,} validation rows."
    )
    console.print(
        f"Training set: {result.manifest.row_count:,} rows, manifest digest "
        f"{result.manifest.digest[:16]}… (full-content SHA-256)."
    )
    commit = result.commit
    code = (
        "not a git repository"
        if commit is None
        else (f"{commit.sha[:12]}{' (dirty)' if commit.dirty else ''}")
    )
    warnings = [c for c in result.quality.checks if c.level == "warn"]
    console.print(
        f"Code: {code}. Quality: {len(result.quality.checks)} checks, {len(warnings)} warning(s)."
    )
    if result.version:
        console.print(
            f"Registered [bold]{result.model_name}[/] version [bold]{result.version}[/] "
            f"in {result.seconds:.1f} s. Next: cairn models approve {result.model_name} "
            f"{result.version} --reviewer ID --ticket MRR-YYYY-NNNN --decision approve"
        )
    else:
        console.print(
            f"Logged model {result.model_uri} in {result.seconds:.1f} s (not registered)."
        )
