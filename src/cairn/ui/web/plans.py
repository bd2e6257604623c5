"""Power plans of a running experiment: what it can detect now, and what it needs for a target
lift — :mod:`cairn.experiments.power` (what ``cairn experiment plan`` runs) on the design the
experiment itself has.

The project records no plan made before an experiment started (``cairn experiment plan``
prints its answer and keeps nothing), so the page plans from the experiment's own numbers:
per proportion metric, the control arm's rate as the baseline, the arms' traffic weights (the
split recorded in the rollout history, else the units each arm got), the analysis's α and
correction, and the units per day the experiment has drawn so far. Two answers per metric:
the smallest lift it can detect with the units it has counted
(:func:`~cairn.experiments.power.minimum_detectable_effect`), and the units and days it needs
to detect ``mde`` (:func:`~cairn.experiments.power.sample_size`; the ``sequential_`` variants
when the analysis uses always-valid intervals). A mean or ratio metric gets no plan: its plan
needs the per-unit standard deviation, which the analysis does not keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from cairn.core.errors import CairnError
from cairn.experiments.power import (
    PowerDesign,
    PowerPlan,
    minimum_detectable_effect,
    sample_size,
    sequential_minimum_detectable_effect,
    sequential_sample_size,
)

if TYPE_CHECKING:
    from cairn.experiments.analysis_results import ExperimentAnalysis
    from cairn.experiments.scope import LoggedExperiment

__all__ = ["DEFAULT_MDE", "MetricPlan", "power_plans"]

DEFAULT_MDE = 0.05
"""The relative lift the plans aim at unless ``?mde=`` says otherwise (+5 %)."""

DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class MetricPlan:
    """One metric's plans: ``reached`` (the MDE with the units counted so far) and ``needed``
    (units and days to detect the target lift), or ``reason`` why there is no plan."""

    metric: str
    arms: list[str]
    counts: list[int]
    """Units the metric counted in each arm (control first)."""
    design: PowerDesign | None = None
    reached: PowerPlan | None = None
    needed: PowerPlan | None = None
    reason: str | None = None

    @property
    def units(self) -> int:
        """Units the metric counted in all arms."""
        return sum(self.counts)

    @property
    def rows(self) -> list[tuple[str, float, int, int, float | None, float | None]]:
        """Per arm, control first: name, share, units counted, units needed for the target
        lift, and (treatments only) the power at the target and the MDE now."""
        if self.needed is None or self.reached is None:
            return []
        return [
            (name, need.share, n, need.units, need.power, now.mde)
            for name, n, need, now in zip(
                self.arms, self.counts, self.needed.arms, self.reached.arms, strict=True
            )
        ]


def power_plans(
    analysis: ExperimentAnalysis, logged: LoggedExperiment, mde: float
) -> list[MetricPlan]:
    """A plan per analysed metric (module docstring); none when the analysis compared
    nothing."""
    control = analysis.control
    if analysis.status != "ok" or control is None:
        return []
    units = sorted(analysis.arms, key=lambda u: u.arm != control)  # control first
    names = [u.arm for u in units]
    if len(names) < 2:
        return []
    weights = [u.weight if u.weight is not None else float(u.units) for u in units]
    if not all(w > 0 for w in weights):
        weights = [float(u.units) for u in units]
    days = (logged.end - logged.start).total_seconds() / DAY_SECONDS
    total = sum(u.units for u in units)
    daily = total / days if days > 0 and total > 0 else None
    correction = (
        analysis.correction if analysis.correction in ("holm", "bh", "bonferroni") else "none"
    )
    sequential = analysis.method == "sequential"
    plans = []
    for m in analysis.metrics:
        name = m.metric.name
        n = {a.arm: a.n for a in m.arms}
        counts = [n.get(arm, 0) for arm in names]
        counted = sum(counts)
        if m.metric.kind != "proportion":
            plans.append(MetricPlan(name, names, counts, reason=(
                f"a {m.metric.kind} metric: its plan needs the per-unit standard deviation, "
                "which the analysis does not keep")))  # fmt: skip
            continue
        base = next((a.mean for a in m.arms if a.arm == control), None)
        if m.status != "ok" or base is None or counted <= 0:
            plans.append(MetricPlan(name, names, counts, reason=m.reason or m.status))
            continue
        try:
            design = PowerDesign(
                baseline=base,
                weights=tuple(weights),
                alpha=analysis.alpha,
                correction=cast(Literal["none", "bonferroni", "holm", "bh"], correction),
                daily_units=daily,
            )
            if sequential:
                reached = sequential_minimum_detectable_effect(design, units=counted)
                needed = sequential_sample_size(design, mde)
            else:
                reached = minimum_detectable_effect(design, units=counted)
                needed = sample_size(design, mde)
        except CairnError as exc:  # e.g. a control rate of 0 or 1: nothing to plan from
            plans.append(MetricPlan(name, names, counts, reason=str(exc)))
            continue
        plans.append(MetricPlan(name, names, counts, design, reached, needed))
    return plans
