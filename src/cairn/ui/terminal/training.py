"""A training run for a terminal: metrics, importance, the registered version."""

from __future__ import annotations

from rich.table import Table

from cairn.training import TrainingResult
from cairn.ui.terminal.console import console


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
