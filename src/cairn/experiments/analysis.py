"""Analyze a deployment's experiment: one SQL aggregate, then the statistics on its sums.

:func:`analyze` reads the sufficient statistics (:mod:`cairn.experiments.aggregate`), checks
the traffic split (SRM), judges each metric's maturity, then compares every treatment arm
with the control: relative and absolute lift (Welch t, or always-valid sequential intervals),
Bayesian chance to win and risk, CUPED for the metrics that declare a covariate (raw and
adjusted estimates side by side; a degenerate adjustment falls back and says why), guardrails
one-sided toward harm, corrections within each metric family, and the same per segment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

import duckdb

from cairn.core.errors import ConfigError
from cairn.core.timeutil import utcnow
from cairn.experiments.aggregate import (
    ArmSums,
    MetricSums,
    log_columns,
    sufficient_statistics,
)
from cairn.experiments.analysis_results import (
    ArmMetric,
    ArmUnits,
    Comparison,
    ExperimentAnalysis,
    MetricAnalysis,
    Verdict,
)
from cairn.experiments.comparison import ArmComparer, metric_mean
from cairn.experiments.maturity import Completeness, immature_reason
from cairn.experiments.metrics import Metric, with_covariates
from cairn.experiments.scope import Scope, resolve_scope
from cairn.experiments.segments import Dimension
from cairn.experiments.stats import (
    SrmResult,
    adjust_p_values,
    srm,
)
from cairn.experiments.stats.corrections import CORRECTIONS, Correction

_CONTROL_NAMES = ("control", "main", "blue", "champion")


def analyze(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    metrics: Sequence[Metric],
    *,
    control: str | None = None,
    seed: str | None = None,
    start: datetime | None = None,
    as_of: datetime | None = None,
    segment: str | None = None,
    max_segments: int = 10,
    sequential_test: bool = False,
    n_star: float = 10_000,
    correction: Correction | None = "holm",
    alpha: float = 0.05,
    weights: Mapping[str, float] | None = None,
    cuped: bool = True,
    min_completeness: float = 0.8,
    scope: Scope | None = None,
) -> ExperimentAnalysis:
    """Compare ``deployment``'s arms on ``metrics``.

    Parameters
    ----------
    con
        A DuckDB connection with the views ``predictions`` and ``outcomes``.
    control
        The baseline arm (default: ``control``, ``main``, ``blue``, ``champion`` or else the
        largest arm).
    seed
        The experiment: the A/B test's or canary's assignment seed in the log (default: the
        deployment's latest; see :mod:`cairn.experiments.scope`).
    start, as_of
        The experiment start (default: its first prediction; a declared CUPED covariate is
        measured over the non-experiment traffic of the window before it) and the analysis time
        (default: now).
    segment
        A dimension to break results down by (see :mod:`cairn.experiments.segments`).
    sequential_test, n_star
        Always-valid intervals tuned for ``n_star`` total units instead of fixed-horizon ones.
    correction
        ``holm``, ``bh``, ``bonferroni`` or None, within each metric family.
    weights
        Traffic weight per arm for the sample-ratio check (None: not checked).
    cuped
        Apply the CUPED covariates the metrics declare (``Metric.cuped``); False: none. A metric
        without a declaration is never adjusted.
    min_completeness
        Labeled share of mature units an outcome metric needs in every arm for a verdict.
    scope
        The experiment as :func:`~cairn.experiments.scope.resolve_scope` already found it for
        this ``seed``, ``start`` and ``as_of`` on this connection (it is then not read again);
        default: read here.

    Example
    -------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT 'p' || i AS prediction_id, "
    ...   "TIMESTAMPTZ '2026-01-02' AS time, 'credit' AS deployment, "
    ...   "CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END AS arm, 'u' || i AS unit_id, "
    ...   "CASE WHEN i % 3 = 0 THEN 'decline' ELSE 'approve' END AS decision, 0.5 AS score, "
    ...   "'ab' AS strategy FROM range(1000) t(i)")
    >>> _ = con.execute("CREATE VIEW outcomes AS SELECT NULL::VARCHAR AS prediction_id, "
    ...   "NULL::VARCHAR AS entity, NULL::TIMESTAMPTZ AS event_time, NULL AS deployment, "
    ...   "NULL::DOUBLE AS label, NULL::TIMESTAMPTZ AS observed_at WHERE false")
    >>> from cairn.experiments.metrics import BUILTIN_METRICS as B
    >>> weights = {"control": 1, "treatment": 1}
    >>> result = analyze(con, "credit", [B["approval_rate"]], weights=weights)
    >>> c = result.metric("approval_rate").comparisons[0]
    >>> c.arm, c.verdict, result.srm.mismatch
    ('treatment', 'flat', False)
    """
    if correction is not None and correction not in CORRECTIONS:
        raise ConfigError(f"correction must be holm, bh, bonferroni or None; got {correction!r}.")
    if not 0 < min_completeness <= 1:
        raise ConfigError(f"min_completeness must be in (0, 1]; got {min_completeness!r}.")
    if not metrics:
        raise ConfigError("Name at least one metric to analyze.")
    metrics = with_covariates(metrics)
    as_of = as_of or utcnow()
    scope = scope or resolve_scope(con, deployment, as_of, seed=seed, start=start)
    start = scope.start
    dimension = (
        Dimension.parse(segment, log_columns(con), max_segments) if segment is not None else None
    )
    stats = sufficient_statistics(
        con, deployment, metrics, start=start, as_of=as_of, dimension=dimension, seed=scope.seed
    )
    method: Literal["frequentist", "sequential"] = (
        "sequential" if sequential_test else "frequentist"
    )
    base = ExperimentAnalysis(
        deployment=deployment,
        status="ok",
        control=None,
        experiment=scope.seed,
        strategy=scope.strategy,
        arms=[ArmUnits(a.arm, a.units) for a in stats.arms],
        start=start,
        as_of=as_of,
        method=method,
        alpha=alpha,
        correction=correction,
        metrics=[],
        dimension=dimension.name if dimension else None,
        multiple_exposures=stats.multiple_exposures,
    )
    notes = []
    if stats.multiple_exposures:
        notes.append(f"{stats.multiple_exposures} units were seen in more than one arm; excluded.")
    if not stats.arms:
        return replace(
            base,
            status="not enough data",
            reason=f"not enough data: no predictions of deployment {deployment!r} between "
            f"{start.isoformat()} and {as_of.isoformat()}",
            notes=notes,
        )
    by_arm = {a.arm: a for a in stats.arms}
    control = _control(control, by_arm)
    ordered = sorted(stats.arms, key=lambda a: (a.arm != control, a.arm))
    units = [ArmUnits(a.arm, a.units, _weight(weights, a.arm)) for a in ordered]
    check, srm_note = _srm(stats.arms, weights)
    base = replace(base, control=control, arms=units, srm=check, srm_note=srm_note, notes=notes)
    if len(stats.arms) < 2:
        return replace(
            base,
            status="not enough data",
            reason=f"not enough data: only arm {control!r} has units; an experiment needs a "
            "control and at least one treatment arm",
        )
    tester = ArmComparer(sequential_test, n_star, alpha, cuped)
    analyses = [_metric(m, ordered, stats.segments, tester, min_completeness) for m in metrics]
    return replace(base, metrics=_correct(analyses, correction, alpha))


def _metric(
    metric: Metric,
    ordered: Sequence[ArmSums],
    segments: Sequence[ArmSums],
    tester: ArmComparer,
    min_completeness: float,
) -> MetricAnalysis:
    """One metric over the arms, ``ordered`` control first."""
    values = [
        ArmMetric(a.arm, a.metrics[metric.name].n, metric_mean(metric, a.metrics[metric.name]))
        for a in ordered
    ]
    completeness = [
        Completeness(
            a.arm,
            a.units,
            a.metrics[metric.name].mature_units,
            a.metrics[metric.name].labeled_units,
        )
        for a in ordered
    ]
    reason = immature_reason(metric, completeness, min_completeness)
    if reason is not None:
        return MetricAnalysis(metric, "immature", values, completeness, [], [], reason)
    if all(v.n == 0 for v in values):
        return MetricAnalysis(
            metric,
            "no data",
            values,
            completeness,
            [],
            [],
            f"no data: no unit has a value of {metric.name}",
        )
    control, treatments = ordered[0], ordered[1:]
    comparisons = [tester.compare(metric, control, a, None) for a in treatments]
    by_segment: dict[str, dict[str, ArmSums]] = {}
    for s in segments:
        by_segment.setdefault(s.segment or "", {})[s.arm] = s
    empty = {metric.name: MetricSums(0, 0.0, 0.0)}  # an arm absent from a segment
    seg_results = []
    for name, seg_arms in by_segment.items():
        base_arm = seg_arms.get(control.arm) or ArmSums(control.arm, 0, empty, name)
        for a in treatments:
            other = seg_arms.get(a.arm) or ArmSums(a.arm, 0, empty, name)
            seg_results.append(tester.compare(metric, base_arm, other, name))
    return MetricAnalysis(metric, "ok", values, completeness, comparisons, seg_results, None)


def _control(control: str | None, arms: Mapping[str, ArmSums]) -> str:
    """The named control, else a conventional name, else the arm with the most units."""
    if control is not None:
        if control not in arms:
            raise ConfigError(
                f"The control arm {control!r} has no units in the log; arms: "
                f"{', '.join(sorted(arms))}."
            )
        return control
    for name in _CONTROL_NAMES:
        if name in arms:
            return name
    return max(arms.values(), key=lambda a: (a.units, a.arm)).arm


def _weight(weights: Mapping[str, float] | None, arm: str) -> float | None:
    if weights is None or arm not in weights:
        return None
    return float(weights[arm])


def _srm(
    arms: Sequence[ArmSums], weights: Mapping[str, float] | None
) -> tuple[SrmResult | None, str | None]:
    """The sample-ratio check, or why it was not run (no weights, or weights for other arms)."""
    if weights is None:
        return None, "not checked: no traffic weights were given"
    observed = {a.arm: a.units for a in arms}
    unknown = sorted(set(observed) - set(weights))
    if unknown:
        return None, (
            f"not checked: the weights name arms {', '.join(sorted(weights))} but the log "
            f"also has {', '.join(unknown)}"
        )
    bad = [f"{k}={v!r}" for k, v in weights.items() if not _is_weight(v)]
    if bad or not any(float(v) > 0 for v in weights.values()):
        return (
            None,
            "not checked: weights must be non-negative numbers, not all 0; "
            f"got {bad or dict(weights)}",
        )
    names = sorted(weights)
    check = srm([observed.get(n, 0) for n in names], [float(weights[n]) for n in names])
    return check, check.error


def _is_weight(value: object) -> bool:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return ok and math.isfinite(float(value)) and float(value) >= 0  # type: ignore[arg-type]


def _verdict(metric: Metric, c: Comparison, p: float | None, alpha: float) -> Verdict:
    if c.error is not None or p is None:
        return "error"
    if metric.guardrail:
        return "harm" if p < alpha else "no harm"
    if p >= alpha:
        return "flat"
    up = c.relative.expected > 0
    return "better" if up == (metric.direction == "increase") else "worse"


def _correct(
    analyses: list[MetricAnalysis], correction: Correction | None, alpha: float
) -> list[MetricAnalysis]:
    """Adjust p-values within each family (goal metrics, overall results), then verdicts."""
    family: dict[str, list[tuple[int, int]]] = {}
    for i, a in enumerate(analyses):
        if a.metric.guardrail:
            continue
        for j, c in enumerate(a.comparisons):
            if c.p_value is not None:
                family.setdefault(a.metric.family, []).append((i, j))
    adjusted: dict[tuple[int, int], float] = {}
    for members in family.values():
        raw = [analyses[i].comparisons[j].p_value or 1.0 for i, j in members]
        fixed = adjust_p_values(raw, correction) if correction else raw
        adjusted.update(zip(members, fixed, strict=True))
    out = []
    for i, a in enumerate(analyses):
        comparisons = []
        for j, c in enumerate(a.comparisons):
            p = adjusted.get((i, j), c.p_value)
            comparisons.append(
                replace(c, adjusted_p_value=p, verdict=_verdict(a.metric, c, p, alpha))
            )
        segments = [  # exploratory: not corrected, so no adjusted p-value
            replace(s, adjusted_p_value=None, verdict=_verdict(a.metric, s, s.p_value, alpha))
            for s in a.segments
        ]
        out.append(replace(a, comparisons=comparisons, segments=segments))
    return out
