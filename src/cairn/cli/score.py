"""`cairn score`: score historical rows as a deployment would have (replays, backtests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._project import open_project

_WRITERS = (".parquet", ".csv")


@one_line_errors
def score(
    deployment: Annotated[
        str, typer.Option("--deployment", "-d", help="Deployment to replay (deployments.yaml).")
    ],
    entities: Annotated[
        str,
        typer.Option(
            "--entities",
            "-e",
            help="Rows to score: a Parquet/CSV file, or SQL over the applied sources.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .parquet or .csv.")],
    at_column: Annotated[
        str,
        typer.Option(
            "--at-column", help="Column with each row's time (timezone-aware): features as of then."
        ),
    ] = "event_timestamp",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="NAME/VERSION, NAME@ALIAS or a version of the deployment's model "
            "(default: the deployment's model as its alias resolves now).",
        ),
    ] = None,
    counterfactuals: Annotated[
        bool,
        typer.Option(
            "--counterfactuals",
            help="Add a counterfactual column: per unfavorable decision, the JSON of the "
            "smallest change that would have turned it (the deployment's counterfactual "
            "declaration); empty for favorable decisions and referrals.",
        ),
    ] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Score historical rows through the serving path with point-in-time features.

    Each row's features are read from the offline store as they were known at its
    --at-column time (the training-set join); columns named like a model input override them,
    as a request's features do. Scores, decisions, reason codes and summaries are exactly what
    serving answers for the same feature values; nothing is written to the prediction log.

    Example: cairn score --deployment credit --entities "SELECT customer_id, event_timestamp
    FROM applications" --out backtest.parquet
    """
    from cairn.app.scoring import score_history
    from cairn.core.errors import ConfigError

    suffix = out.suffix.lower()
    if suffix not in _WRITERS:
        raise ConfigError(f"--out must end in .parquet or .csv; got {str(out)!r}.")
    project = open_project(repo)
    scored = score_history(
        project,
        deployment,
        entities,
        at_column=at_column,
        model=model,
        counterfactuals=counterfactuals,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        scored.to_csv(out, index=False)
    else:
        scored.to_parquet(out, index=False)
    if len(scored):
        model_ref = f"{scored['model_name'].iloc[0]}/{scored['model_version'].iloc[0]}"
        counts = scored["decision"].value_counts().to_dict()
        decided = ", ".join(f"{n:,} {d}" for d, n in sorted(counts.items()))
        console.print(
            f"Scored {len(scored):,} rows of {deployment!r} with {model_ref} "
            f"({decided}); wrote {out}.",
            highlight=False,
        )
    else:
        console.print(f"No rows to score; wrote an empty {out}.", highlight=False)
