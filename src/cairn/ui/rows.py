"""Results with a nested shape, as rows (what ``--format csv|parquet`` writes).

An experiment analysis becomes one row per comparison, a champion/challenger comparison one
row per model, a validation one row per check, a rollout's status one row per arm or shadow.
The JSON form of these results is their own ``to_dict()``; these rows are its flat view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cairn.ui.output import jsonable

if TYPE_CHECKING:
    from cairn.experiments import ExperimentAnalysis
    from cairn.experiments.champion.compare import ChampionComparison
    from cairn.quality import ValidationResult

__all__ = ["analysis_rows", "comparison_rows", "rollout_rows", "validation_rows"]


def analysis_rows(analysis: ExperimentAnalysis) -> list[dict[str, Any]]:
    """One row per treatment arm and metric (overall, then per segment): means, lift and
    its interval, p-values, chance to win, verdict."""
    rows: list[dict[str, Any]] = []
    for m in analysis.metrics:
        for c in [*m.comparisons, *m.segments]:
            low, high = c.relative.ci
            raw = c.cuped.raw
            rows.append(
                {
                    "metric": c.metric,
                    "segment": c.segment,
                    "arm": c.arm,
                    "control": c.control,
                    "status": m.status,
                    "control_n": c.control_n,
                    "treatment_n": c.treatment_n,
                    "control_mean": c.control_mean,
                    "treatment_mean": c.treatment_mean,
                    "lift": c.relative.expected,
                    "lift_ci_low": low,
                    "lift_ci_high": high,
                    "difference": c.absolute.expected,
                    "p_value": c.p_value,
                    "adjusted_p_value": c.adjusted_p_value,
                    "chance_to_win": c.chance_to_win,
                    "cuped": c.cuped.applied,
                    "cuped_reason": c.cuped.reason,
                    "variance_reduction": c.cuped.variance_reduction,
                    "raw_lift": raw.relative.expected if raw else None,
                    "raw_lift_ci_low": raw.relative.ci[0] if raw else None,
                    "raw_lift_ci_high": raw.relative.ci[1] if raw else None,
                    "raw_p_value": raw.relative.p_value if raw else None,
                    "verdict": c.verdict,
                    "verdict_basis": c.cuped.basis,
                    "error": c.error,
                }
            )
    return [jsonable(r) for r in rows]


def comparison_rows(comparison: ChampionComparison) -> list[dict[str, Any]]:
    """One row per model (champion, challenger): its metrics, one column each."""
    rows = []
    for role in ("champion", "challenger"):
        metrics = jsonable(getattr(comparison, role))
        rows.append({"role": role, **_flatten(metrics)})
    return rows


def validation_rows(result: ValidationResult) -> list[dict[str, Any]]:
    """One row per check of a validation run (its ``to_dict()['checks']``)."""
    checks: list[dict[str, Any]] = result.to_dict()["checks"]
    return [{"suite": result.suite, "data": result.data, **c} for c in checks]


def rollout_rows(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per arm and shadow of a rollout status (``RolloutService.status``)."""
    rows = [{"role": "arm", **a} for a in status["arms"]]
    rows += [{"role": "shadow", "name": None, "weight": 0.0, **s} for s in status["shadows"]]
    return [jsonable(r) for r in rows]


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as ``outer.inner`` columns (lists stay as they are).

    Example
    -------
    >>> _flatten({"auc": {"auc": 0.7, "ci": [0.6, 0.8]}, "model": "m"})
    {'auc.auc': 0.7, 'auc.ci': [0.6, 0.8], 'model': 'm'}
    """
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten(item, f"{name}."))
        else:
            out[name] = item
    return out
