"""`cairn experiment plan`: units per arm, days, and the minimum detectable effect.

A plain function with Typer options; ``cairn.cli.experiment`` registers it on the
``experiment`` group.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from cairn.cli._console import console, one_line_errors
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    from rich.table import Table

    from cairn.experiments.power import PowerDesign, PowerPlan


def parse_weights(text: str) -> tuple[float, ...]:
    """``"50,25,25"`` -> ``(50.0, 25.0, 25.0)``.

    Example
    -------
    >>> parse_weights("50, 25,25")
    (50.0, 25.0, 25.0)
    """
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--weights must be comma-separated numbers, control first (50,25,25); got {text!r}."
        ) from None


def _value(design: PowerDesign, x: float) -> str:
    return f"{x:.2%}" if design.metric == "proportion" else f"{x:,.4g}"


def _effect(design: PowerDesign, effect: float) -> str:
    from cairn.experiments.power.normal import treatment_mean

    if not math.isfinite(effect):
        return "none reachable (too few units)"
    kind = f"{effect:+.2%} relative" if design.relative else f"{effect:+.4g} absolute"
    after = _value(design, treatment_mean(design, effect))
    return f"{kind} ({_value(design, design.baseline)} → {after})"


def _table(design: PowerDesign, plan: PowerPlan, title: str) -> Table:
    from rich.table import Table

    table = Table("arm", "share", "units", "days", "power", title=title)
    for arm in plan.arms:
        days = (
            "—"
            if design.daily_units is None
            else f"{arm.units / arm.share / design.daily_units:,.1f}"
        )
        power = "" if arm.power is None else f"{arm.power:.1%}"
        table.add_row(arm.name, f"{arm.share:.0%}", f"{arm.units:,}", days, power)
    return table


def _footer(design: PowerDesign, plan: PowerPlan) -> None:
    if plan.whole_days is not None:
        console.print(
            f"Total: {plan.total_units:,} units over {plan.days:,.1f} days "
            f"({plan.whole_days} whole days) at {design.daily_units:,.0f} units/day."
        )
    if design.correction != "none":
        console.print(
            f"Each comparison at α = {plan.alpha:.4g} ({design.correction} over "
            f"{design.comparisons} treatments)."
        )
    if plan.sequential and plan.n_star is not None:
        console.print(
            f"Sequential: always-valid confidence sequence tuned at n_star = {plan.n_star:,.0f}; "
            "analyse with the same n_star and check as often as you like."
        )


@one_line_errors
def plan(
    baseline: Annotated[
        float, typer.Option("--baseline", help="Control rate (proportion) or mean.")
    ],
    mde: Annotated[
        float | None, typer.Option("--mde", help="Effect to detect: relative (0.10 = +10%).")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    power: Annotated[float, typer.Option("--power", help="Chance to detect the effect.")] = 0.8,
    weights: Annotated[
        str, typer.Option("--weights", help="Traffic weights per arm, control first.")
    ] = "50,50",
    daily_units: Annotated[
        float | None, typer.Option("--daily-units", help="Units entering per day, all arms.")
    ] = None,
    days: Annotated[
        float | None, typer.Option("--days", help="Also give the MDE reachable in N days.")
    ] = None,
    sequential: Annotated[
        bool, typer.Option("--sequential/--no-sequential", help="Plan for continuous monitoring.")
    ] = False,
    n_star: Annotated[
        float | None, typer.Option("--n-star", help="Sequence tuning (default: planned units).")
    ] = None,
    metric: Annotated[str, typer.Option("--metric", help="proportion or mean.")] = "proportion",
    std: Annotated[float | None, typer.Option("--std", help="Per-unit std of a mean.")] = None,
    absolute: Annotated[
        bool, typer.Option("--absolute", help="--mde is an absolute difference.")
    ] = False,
    correction: Annotated[
        str, typer.Option("--correction", help="none, bonferroni, holm or bh over treatments.")
    ] = "none",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the design and plans as JSON.")
    ] = False,
) -> None:
    """Plan an experiment: units per arm and days to detect --mde, or the MDE in --days.

    Example: cairn experiment plan --baseline 0.05 --mde 0.10 --weights 50,25,25 --daily-units 20000
    """
    from cairn.experiments.power import (
        PowerDesign,
        minimum_detectable_effect,
        sample_size,
        sequential_minimum_detectable_effect,
        sequential_sample_size,
    )

    design = PowerDesign(
        baseline=baseline,
        weights=parse_weights(weights),
        alpha=alpha,
        power=power,
        metric=cast(Literal["proportion", "mean"], metric),
        std=std,
        relative=not absolute,
        correction=cast(Literal["none", "bonferroni", "holm", "bh"], correction),
        daily_units=daily_units,
    )
    if mde is None and days is None:
        raise ConfigError("give --mde (sample size for an effect) or --days (the MDE in N days).")
    kind = "sequential" if sequential else "fixed-horizon"
    if as_json:
        from cairn.ui.output import json_text

        body: dict[str, object] = {"design": design, "method": kind}
        if mde is not None:
            body["sample_size"] = (
                sequential_sample_size(design, mde, n_star=n_star)
                if sequential
                else sample_size(design, mde)
            )
        if days is not None:
            body["in_days"] = (
                sequential_minimum_detectable_effect(design, days=days, n_star=n_star)
                if sequential
                else minimum_detectable_effect(design, days=days)
            )
        typer.echo(json_text(body))
        return
    if mde is not None:
        result = (
            sequential_sample_size(design, mde, n_star=n_star)
            if sequential
            else sample_size(design, mde)
        )
        console.print(
            _table(design, result, f"Units to detect the MDE ({kind}, power {power:.0%})")
        )
        console.print(f"Minimum detectable effect: {_effect(design, result.mde)}")
        _footer(design, result)
    if days is not None:
        if sequential:
            reach = sequential_minimum_detectable_effect(design, days=days, n_star=n_star)
        else:
            reach = minimum_detectable_effect(design, days=days)
        if mde is None:
            console.print(_table(design, reach, f"Units in {days:g} days ({kind})"))
            _footer(design, reach)
        console.print(
            f"In {days:g} days ({reach.total_units:,} units) the minimum detectable effect is "
            f"{_effect(design, reach.mde)}."
        )
