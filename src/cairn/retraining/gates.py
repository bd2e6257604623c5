"""The gates a retrained candidate must pass before it may become a challenger.

Judged on ONE out-of-time test window for both models: the same rows, the same labels, the
candidate's scores and the champion's. Each gate is a :class:`GateCheck` with its value, its
limit and one sentence; the candidate passes when every check passes. The gates of a policy's
``gates`` section (:class:`~cairn.retraining.policy.GatesSpec`):

* **quality** — each named suite's result on the training rows (given as ``quality``);
* **metric floors** — ``metric >= floor`` (``brier``: ``<= floor``, lower is better);
* **maximum loss vs the champion** — ``champion - candidate <= max_loss`` (``brier``: the
  other way round); without a champion (a first model) the check passes and says so;
* **calibration** — the candidate's expected calibration error (10 equal-width bins,
  :func:`cairn.experiments.champion.classification`) ``<= max_ece``;
* **fairness** — the candidate's adverse-impact ratio of the favorable decision across the
  groups of ``fairness_attribute`` (:func:`cairn.experiments.champion.adverse_impact`, groups
  of at least 30 rows) ``>= min_adverse_impact_ratio``; a window in which fewer than two groups
  are large enough to compare *fails* (a gate that cannot judge does not let a model through).

Metrics are those of training (:func:`cairn.training.metrics.evaluate`): auc, gini, ks,
precision, recall, brier.

Example
-------
>>> import numpy as np
>>> from cairn.retraining.policy import GatesSpec
>>> rng = np.random.default_rng(0)
>>> y = (rng.random(2000) < 0.3).astype(int)
>>> good = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, 0.15, 2000), 0, 1)
>>> worse = np.clip(0.3 + 0.10 * (y - 0.3) + rng.normal(0, 0.15, 2000), 0, 1)
>>> spec = GatesSpec(metric_floors={"auc": 0.6}, max_loss={"auc": 0.01})
>>> judge_gates(spec, labels=y, candidate=good, champion=worse).passed
True
>>> report = judge_gates(spec, labels=y, candidate=worse, champion=good)
>>> report.passed, [c.gate for c in report.failed]
(False, ['max_loss:auc'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cairn.core.errors import DataError
from cairn.retraining.policy import GATE_METRICS, LOWER_IS_BETTER, GatesSpec

__all__ = ["GateCheck", "GateReport", "judge_gates"]


@dataclass(frozen=True)
class GateCheck:
    """One gate: passed or not, its value and limit, and why in one sentence."""

    gate: str
    """``quality:SUITE``, ``floor:METRIC``, ``max_loss:METRIC``, ``ece`` or ``adverse_impact``."""
    passed: bool
    value: float | None
    limit: float | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "gate": self.gate,
            "passed": self.passed,
            "value": _num(self.value),
            "limit": self.limit,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class GateReport:
    """Every gate of a candidate on the common test window, and the numbers they read."""

    checks: list[GateCheck]
    rows: int
    """Rows of the common test window."""
    candidate: dict[str, float]
    """The candidate's metrics on the window (and ``ece``)."""
    champion: dict[str, float] | None = None
    """The champion's metrics on the same rows (None: no champion)."""
    window: dict[str, Any] = field(default_factory=dict)
    """Where the rows come from (start, end, the champion's overlap...)."""

    @property
    def passed(self) -> bool:
        """Whether every gate passed."""
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[GateCheck]:
        """The gates that failed."""
        return [c for c in self.checks if not c.passed]

    def describe(self) -> str:
        """One sentence: passed, or which gates failed and why."""
        if self.passed:
            return f"all {len(self.checks)} gates passed on {self.rows} test rows"
        return "; ".join(c.detail for c in self.failed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "passed": self.passed,
            "rows": self.rows,
            "checks": [c.to_dict() for c in self.checks],
            "candidate": {k: _num(v) for k, v in self.candidate.items()},
            "champion": None
            if self.champion is None
            else {k: _num(v) for k, v in self.champion.items()},
            "window": dict(self.window),
        }


def judge_gates(
    spec: GatesSpec,
    *,
    labels: npt.ArrayLike,
    candidate: npt.ArrayLike,
    champion: npt.ArrayLike | None = None,
    threshold: float = 0.5,
    favorable: Literal["positive", "negative"] = "negative",
    groups: npt.ArrayLike | None = None,
    quality: Mapping[str, str | None] | None = None,
    window: Mapping[str, Any] | None = None,
) -> GateReport:
    """Judge a candidate against ``spec`` on one test window.

    Parameters
    ----------
    spec:
        The policy's gates.
    labels, candidate, champion:
        Per test row: the 0/1 label, the candidate's score, the champion's score on the same
        row (None: there is no champion yet).
    threshold, favorable:
        The deployment's decision: ``score >= threshold`` is the positive decision, and
        ``favorable`` says which of the two is good for the person (credit: negative, approve).
    groups:
        Per row, the group of ``spec.fairness_attribute`` (needed when the fairness gate is on).
    quality:
        Suite name -> None when it passed on the training rows, else what failed.
    window:
        Where the rows come from, kept with the report.
    """
    y = np.asarray(labels, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    champ = None if champion is None else np.asarray(champion, dtype=np.float64)
    if len(cand) != len(y) or (champ is not None and len(champ) != len(y)):
        raise DataError(
            f"The gates need one label and one score per model and row; got {len(y)} labels, "
            f"{len(cand)} candidate and {0 if champ is None else len(champ)} champion scores."
        )
    mine = _metrics(y, cand, threshold)
    theirs = None if champ is None else _metrics(y, champ, threshold)
    checks = [*_quality(spec, quality or {})]
    for metric, floor in spec.metric_floors.items():
        checks.append(_floor(metric, mine[metric], floor))
    for metric, loss in spec.max_loss.items():
        checks.append(_loss(metric, mine[metric], None if theirs is None else theirs[metric], loss))
    if spec.max_ece is not None:
        ece = mine["ece"]
        checks.append(
            GateCheck(
                "ece",
                ece <= spec.max_ece,
                ece,
                spec.max_ece,
                f"calibration error {ece:.4f} {'<=' if ece <= spec.max_ece else '>'} "
                f"{spec.max_ece:g}",
            )
        )
    if spec.min_adverse_impact_ratio is not None:
        checks.append(_fairness(spec, cand, threshold, favorable, groups))
    return GateReport(checks, len(y), mine, theirs, dict(window or {}))


# -- the gates --------------------------------------------------------------------------------


def _metrics(
    y: npt.NDArray[np.float64], scores: npt.NDArray[np.float64], t: float
) -> dict[str, float]:
    from cairn.experiments.champion.calibration import classification
    from cairn.training.metrics import evaluate

    if len(y) == 0:
        raise DataError("The gates' test window holds no labeled row: nothing can be judged.")
    out = evaluate(y.astype(np.int64), scores, threshold=t)
    out["ece"] = classification(y, scores, t).expected_calibration_error
    return {k: out[k] for k in (*GATE_METRICS, "ece", "rows")}


def _quality(spec: GatesSpec, results: Mapping[str, str | None]) -> list[GateCheck]:
    out = []
    for suite in spec.quality:
        if suite not in results:
            out.append(GateCheck(f"quality:{suite}", False, None, None, f"suite {suite} not run"))
            continue
        problem = results[suite]
        text = f"quality suite {suite} " + ("passed" if problem is None else f"failed: {problem}")
        out.append(GateCheck(f"quality:{suite}", problem is None, None, None, text))
    return out


def _floor(metric: str, value: float, floor: float) -> GateCheck:
    lower = metric in LOWER_IS_BETTER
    ok = value <= floor if lower else value >= floor
    sign = ("<=" if ok else ">") if lower else (">=" if ok else "<")
    return GateCheck(f"floor:{metric}", ok, value, floor, f"{metric} {value:.4f} {sign} {floor:g}")


def _loss(metric: str, value: float, champion: float | None, allowed: float) -> GateCheck:
    if champion is None:
        return GateCheck(
            f"max_loss:{metric}", True, None, allowed, f"{metric}: no champion to compare with"
        )
    loss = value - champion if metric in LOWER_IS_BETTER else champion - value
    ok = loss <= allowed + 1e-12
    return GateCheck(
        f"max_loss:{metric}",
        ok,
        loss,
        allowed,
        f"{metric} {value:.4f} vs champion {champion:.4f}: "
        f"{'loss' if loss > 0 else 'gain'} {abs(loss):.4f} "
        f"({'within' if ok else 'more than'} the {allowed:g} allowed)",
    )


def _fairness(
    spec: GatesSpec,
    scores: npt.NDArray[np.float64],
    threshold: float,
    favorable: str,
    groups: npt.ArrayLike | None,
) -> GateCheck:
    from cairn.experiments.champion.fairness import adverse_impact

    limit = spec.min_adverse_impact_ratio
    assert limit is not None
    attribute = spec.fairness_attribute or "group"
    if groups is None:
        return GateCheck(
            "adverse_impact", False, None, limit, f"no {attribute} groups to judge fairness on"
        )
    positive = scores >= threshold
    fav = ~positive if favorable == "negative" else positive
    air = adverse_impact(groups, fav, attribute=attribute, threshold=limit)
    if air.min_ratio is None:
        sizes = ", ".join(f"{g.group}: {g.count}" for g in air.groups)
        return GateCheck(
            "adverse_impact",
            False,
            None,
            limit,
            f"fairness cannot be judged: fewer than two {attribute} groups of 30 rows ({sizes})",
        )
    low = min((g for g in air.groups if g.ratio is not None), key=lambda g: g.ratio or 0.0)
    ok = air.min_ratio >= limit
    return GateCheck(
        "adverse_impact",
        ok,
        air.min_ratio,
        limit,
        f"adverse-impact ratio by {attribute} {air.min_ratio:.3f} "
        f"({low.group} vs {air.reference}) {'>=' if ok else '<'} {limit:g}",
    )


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
