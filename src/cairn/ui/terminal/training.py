"""A training run for a terminal: metrics, importance, the registered version."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from cairn.training import TrainingResult
from cairn.ui.terminal.console import console


def print_result(result: TrainingResult) -> None:
    """The metrics, importance, data version and registration of one training run."""
    m = result.metrics
    prefixes = {"test": "test_", "validation": "valid_", "train": "train_"}
    shown = {part: p for part, p in prefixes.items() if f"{p}auc" in m}
    reported = result.split.reported
    heads = [f"{part} (reported)" if part == reported else part for part in shown]
    table = Table("metric", *heads, title=f"Run {result.run_id} ({result.flavor})")
    for key in ("auc", "gini", "ks", "precision", "recall", "brier", "positive_rate", "rows"):
        fmt = "{:,.0f}" if key == "rows" else "{:.4f}"
        table.add_row(key, *[fmt.format(m[f"{p}{key}"]) for p in shown.values()])
    console.print(table)
    top = ", ".join(f"{name} {value:.3g}" for name, value in result.importance.top(5))
    console.print(f"Top features ({result.importance.method}): {top}")
    split = result.split
    test = (
        ""
        if split.test_cutoff is None
        else f", {len(split.test):,} test rows from {split.test_cutoff:%Y-%m-%d %H:%M}"
    )
    console.print(
        f"Time split at {split.cutoff:%Y-%m-%d %H:%M} UTC: {len(split.train):,} train rows, "
        f"{len(split.validation):,} validation rows{test}; reported metrics: {reported}."
    )
    timing = result.label_timing
    if timing is not None and timing.total:
        parts = ", ".join(f"{n:,} {part}" for part, n in timing.dropped.items() if n)
        console.print(f"Labels not known in time ({timing.rule}): dropped {parts} row(s).")
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/] {escape(warning.message)}", soft_wrap=True)
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
            f"{result.version} --token-file REVIEWER.token --ticket MRR-YYYY-NNNN "
            f"--decision approve (a second person: never the author)"
        )
    else:
        console.print(
            f"Logged model {result.model_uri} in {result.seconds:.1f} s (not registered)."
        )
