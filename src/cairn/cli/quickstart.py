"""`cairn init` and `cairn quickstart`: the example project and the main job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from cairn.app.quickstart import DEFAULT_DIR, QuickstartReport, run_quickstart
from cairn.cli._console import console, one_line_errors


@one_line_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Scaffold a working credit-scoring project (real credit data + synthetic transactions).

    Example: cairn init ./credit && cairn apply --repo ./credit
    """
    from cairn.app.example import create_example_project

    project = create_example_project(directory, seed=seed, force=force)
    console.print(
        f"Created {project.path}: {project.applications} applications, "
        f"{project.profile_rows} profile rows, {project.transactions} transactions.\n"
        f"Next: cairn apply --repo {directory}"
    )


@one_line_errors
def quickstart(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the example project.")
    ] = DEFAULT_DIR,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Run the whole lifecycle on the embedded defaults: init -> apply -> training set.

    Example: cairn quickstart ./demo
    """
    with console.status("starting") as status:
        report = run_quickstart(
            directory, seed=seed, on_step=lambda name: status.update(f"[bold]{name}")
        )
    print_report(report)


def print_report(report: QuickstartReport) -> None:
    """The Rich summary of a quickstart run."""
    steps = Table(
        "step", "seconds", title=f"Cairn quickstart in {report.path}", title_justify="left"
    )
    for name, seconds in report.steps:
        steps.add_row(name, f"{seconds:.2f}")
    console.print(steps)
    if report.quality is not None:
        from cairn.cli.quality import print_demo

        print_demo(report.quality)
    if report.applied is not None:
        counts: dict[str, int] = {}
        for c in report.applied.changes:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        console.print(
            "Applied: " + ", ".join(f"{n} {k.replace('_', ' ')}(s)" for k, n in counts.items())
        )
    frame, manifest = report.training_set, report.manifest
    if frame is None or manifest is None:
        return
    features = Table(
        "feature",
        "dtype",
        "null share",
        "mean / top",
        title=f"Training set: {len(frame)} rows x {len(report.feature_columns)} "
        f"features -> {report.training_set_path}",
        title_justify="left",
    )
    for col in report.feature_columns:
        s = frame[col]
        if s.dtype.kind in "if":
            summary = f"{s.mean():.3g}"
        else:
            top = s.dropna().astype(str).value_counts()
            summary = top.index[0] if len(top) else "-"
        features.add_row(col, str(s.dtype), f"{s.isna().mean():.1%}", summary)
    console.print(features)
    sources = "\n".join(
        f"  {name}: {info.get('sha256') or 'delta v' + str(info.get('delta_version'))}"[:90]
        for name, info in manifest.sources.items()
    )
    if report.late_rows_hidden:
        console.print(
            f"Point in time: {report.late_rows_hidden} applications had a profile update with an "
            f"earlier event time that was only known later; the training set does not see it."
        )
    console.print(
        Panel(
            f"digest {manifest.digest}\nentity rows {manifest.entity['rows']} from "
            f"{manifest.entity['start']} to {manifest.entity['end']}\n"
            f"views "
            + ", ".join(f"{v} v{m['version']}" for v, m in manifest.feature_views.items())
            + f"\nsources (content SHA-256):\n{sources}",
            title="Manifest",
            title_align="left",
        )
    )

    print_online(report)
    if report.training is not None:
        from cairn.cli.lineage import print_training_demo

        print_training_demo(report.training)
    if report.serving is not None:
        from cairn.cli.predictions import print_serving_demo

        print_serving_demo(report.serving)
    if report.monitoring is not None:
        from cairn.cli.monitor import print_monitoring_demo

        print_monitoring_demo(report.monitoring)
    if report.rollout is not None:
        from cairn.cli.deploy import print_rollout_demo

        print_rollout_demo(report.rollout)
    if report.experiment is not None:
        from cairn.cli.experiment import print_experiment_demo

        print_experiment_demo(report.experiment)


def print_online(report: QuickstartReport) -> None:
    """The online half of the summary: materialization, a read, consistency, freshness."""
    if report.materialized:
        done = ", ".join(
            f"{r.view}: {r.records:,} records / {r.tiles:,} tiles in {r.seconds:.2f}s"
            for r in report.materialized
        )
        console.print(f"Materialized: {done}")
    if report.online_sample is not None and report.online_at is not None:
        sample = report.online_sample
        shown = ["customer_id", "found", *report.feature_columns[:4], *report.feature_columns[-3:]]
        table = Table(
            *shown,
            title=f"Online features at {report.online_at:%Y-%m-%d %H:%M} UTC "
            f"(one read: {report.online_read_us or 0:.0f} µs p50 in process)",
            title_justify="left",
        )
        for values in sample[shown].itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values))
        console.print(table)
    for check in report.consistency:
        verdict = (
            "[green]0 mismatches[/]"
            if check.ok
            else (f"[red]{sum(check.mismatches.values())} mismatches[/]")
        )
        console.print(
            f"Consistency {check.view}: {check.keys} keys x "
            f"{len(check.mismatches)} features online vs offline: {verdict}"
        )
    for info in report.status:
        console.print(
            f"Freshness {info['view']}: watermark {info['watermark']}, newest event "
            f"{info['max_event']} ({info['freshness_seconds'] or 0:,.0f} s behind now: the demo "
            f"data ends in the past)"
        )
