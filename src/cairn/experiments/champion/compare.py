"""Champion vs challenger on shadow pairs: metrics side by side and a recommendation.

On the requests both scored, once outcomes arrived: AUC with DeLong's interval and the paired
DeLong test, KS, precision and recall of the positive decision (``score >= threshold``: decline
for credit, follow_up for an outreach model), Brier score (paired difference) and reliability,
the rate of the favorable decision (the deployment's ``decision.favorable``: approve for credit)
and its paired difference, adverse impact ratios of the favorable decision by a protected
attribute, and latency p99. Labels count for requests at least ``maturity`` old. The
recommendation is ``promote`` only when the challenger ranks significantly better and nothing
blocks it (fairness, calibration, latency); ``keep`` when it ranks significantly worse or
something blocks it; else ``inconclusive``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
from numpy.typing import NDArray

from cairn.core.deployments import Decisions
from cairn.core.errors import ConfigError
from cairn.core.timeutil import format_duration, utcnow
from cairn.experiments.analysis_results import plain
from cairn.experiments.champion.calibration import (
    Classification,
    PairedDifference,
    brier_terms,
    classification,
    paired_difference,
)
from cairn.experiments.champion.delong import AucDifference, AucResult, delong_auc, delong_test
from cairn.experiments.champion.fairness import AdverseImpact, adverse_impact
from cairn.experiments.champion.pairs import ShadowPairs, load_pairs, pick_challenger

Recommendation = Literal["promote", "keep", "inconclusive"]


@dataclass(frozen=True)
class ModelMetrics:
    """One model's metrics on the pairs (label-based ones None without enough labels).

    ``favorable_rate`` is the share of pairs the model gives the favorable decision (for
    credit: approve).
    """

    model: str
    favorable_rate: float
    latency_p99_ms: float | None
    auc: AucResult | None = None
    classification: Classification | None = None
    adverse_impact: AdverseImpact | None = None

    @property
    def approval_rate(self) -> float:
        """0.1's name of :attr:`favorable_rate` (credit's favorable decision is approve)."""
        return self.favorable_rate


@dataclass(frozen=True)
class ChampionComparison:
    """The champion against one shadow challenger, with the recommendation and its reasons.

    ``decision`` is the deployment's vocabulary (which decision is positive, which favorable);
    ``maturity`` (µs) is how old a request had to be for its label to count, and
    ``maturity_source`` says where that came from (the deployment's label, ``--maturity``...).
    """

    deployment: str
    threshold: float
    as_of: datetime
    pairs: int
    labeled_pairs: int
    positives: int
    champion: ModelMetrics
    challenger: ModelMetrics
    recommendation: Recommendation
    reasons: list[str]
    auc_difference: AucDifference | None = None
    brier_difference: PairedDifference | None = None
    favorable_difference: PairedDifference | None = None
    notes: list[str] = field(default_factory=list)
    decision: Decisions = field(default_factory=Decisions)
    maturity: int = 0
    maturity_source: str = "given"

    @property
    def approval_difference(self) -> PairedDifference | None:
        """0.1's name of :attr:`favorable_difference`."""
        return self.favorable_difference

    @property
    def maturity_text(self) -> str:
        """The label maturity used, as text (``90d``)."""
        return format_duration(self.maturity)

    def describe_maturity(self) -> str:
        """One line: which maturity the comparison used, and why.

        Example
        -------
        >>> from datetime import UTC, datetime
        >>> m = ModelMetrics("m/1", 0.5, None)
        >>> c = ChampionComparison("outreach", 0.5, datetime(2026, 1, 1, tzinfo=UTC), 0, 0, 0, m,
        ...     m, "inconclusive", [], maturity=7 * 86_400_000_000,
        ...     maturity_source="the label maturity of deployment outreach")
        >>> c.describe_maturity()
        'Labels count for requests at least 7d old (the label maturity of deployment outreach).'
        """
        return (
            f"Labels count for requests at least {self.maturity_text} old ({self.maturity_source})."
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``maturity_text``)."""
        data = {f.name: plain(getattr(self, f.name)) for f in fields(self)}
        data["maturity_text"] = self.maturity_text
        return data


@dataclass(frozen=True)
class Policy:
    """When a challenger may be promoted.

    ``min_labeled`` labeled pairs with at least ``min_class`` of each class are needed to judge
    ranking; ``air_threshold`` is the four-fifths rule; the challenger's p99 latency may be at
    most ``latency_ratio`` times the champion's.
    """

    alpha: float = 0.05
    min_labeled: int = 100
    min_class: int = 10
    air_threshold: float = 0.8
    latency_ratio: float = 1.2


def compare_champion(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    *,
    challenger: str | None = None,
    threshold: float = 0.5,
    as_of: datetime | None = None,
    start: datetime | None = None,
    maturity: int = 0,
    protected: str | Path | None = None,
    attribute: str | None = None,
    key: str | None = None,
    policy: Policy | None = None,
    decisions: Decisions | None = None,
) -> ChampionComparison:
    """Compare ``deployment``'s champion with a shadow ``challenger`` (``NAME[/VERSION]``).

    ``threshold`` is the deployment's operating point (``score >= threshold`` makes the positive
    decision of ``decisions``, its vocabulary; default credit's: decline, favorable approve);
    ``maturity`` (µs) is how old a request must be for its label to count; ``protected`` is a
    Parquet/CSV file with the ``attribute`` per entity ``key``.

    Example
    -------
    >>> from datetime import UTC
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT 'p' || (i // 2) AS prediction_id, "
    ...   "TIMESTAMPTZ '2026-01-02' AS time, 'credit' AS deployment, 'm' AS model_name, "
    ...   "CAST(1 + i % 2 AS VARCHAR) AS model_version, i % 2 = 1 AS shadow, '{}' AS entity, "
    ...   "((i // 2) % 3 = 0)::INT * (0.2 + 0.3 * (i % 2)) + ((i // 2) * 7 % 10) / 25 AS score, "
    ...   "1.0 AS latency_ms FROM range(400) t(i)")
    >>> _ = con.execute("CREATE VIEW outcomes AS SELECT 'p' || j AS prediction_id, "
    ...   "NULL::VARCHAR AS entity, NULL::TIMESTAMPTZ AS event_time, 'credit' AS deployment, "
    ...   "(j % 3 = 0)::DOUBLE AS label, TIMESTAMPTZ '2026-01-03' AS observed_at "
    ...   "FROM range(200) t(j)")
    >>> r = compare_champion(con, "credit", as_of=datetime(2026, 2, 1, tzinfo=UTC))
    >>> r.champion.model, r.challenger.model, r.pairs, r.recommendation
    ('m/1', 'm/2', 200, 'promote')
    """
    if not 0 <= threshold <= 1:
        raise ConfigError(f"threshold must be between 0 and 1; got {threshold!r}.")
    policy = policy or Policy()
    as_of = as_of or utcnow()
    chosen = pick_challenger(con, deployment, challenger)
    pairs = load_pairs(
        con,
        deployment,
        chosen,
        as_of=as_of,
        maturity=maturity,
        start=start,
        protected=Path(protected) if protected is not None else None,
        attribute=attribute,
        key=key,
    )
    result = judge(pairs, deployment, threshold, as_of, policy, attribute or "group", decisions)
    return replace(result, maturity=maturity)


def judge(
    pairs: ShadowPairs,
    deployment: str,
    threshold: float,
    as_of: datetime,
    policy: Policy,
    attribute: str = "group",
    decisions: Decisions | None = None,
) -> ChampionComparison:
    """Metrics and the recommendation for loaded pairs (separate from loading, for tests).

    ``score >= threshold`` is the positive decision of ``decisions`` (default: credit's);
    favorable-decision rates and adverse impact follow its ``favorable`` decision.
    """
    decisions = decisions or Decisions()
    labeled = ~np.isnan(pairs.label)
    y = pairs.label[labeled] > 0
    positives, n_labeled = int(y.sum()), int(labeled.sum())
    enough = n_labeled >= policy.min_labeled and min(positives, n_labeled - positives) >= (
        policy.min_class
    )
    good_a = _favorable(pairs.champion_score, threshold, decisions)
    good_b = _favorable(pairs.challenger_score, threshold, decisions)
    champion = _metrics(pairs.champion, pairs.champion_score, pairs.champion_latency, good_a)
    challenger = _metrics(
        pairs.challenger, pairs.challenger_score, pairs.challenger_latency, good_b
    )
    notes = []
    if pairs.excluded:
        notes.append(f"{pairs.excluded} pairs served by another primary model were left out.")
    auc_diff = brier_diff = None
    if enough:
        a, b = pairs.champion_score[labeled], pairs.challenger_score[labeled]
        champion = _labeled(champion, y, a, threshold, policy.alpha)
        challenger = _labeled(challenger, y, b, threshold, policy.alpha)
        auc_diff = delong_test(y, a, b, alpha=policy.alpha)
        brier_diff = paired_difference(brier_terms(y, a), brier_terms(y, b), alpha=policy.alpha)
    if pairs.group is not None and len(pairs):
        favorable = decisions.favorable_decision
        champion = _fair(champion, pairs.group, good_a, attribute, policy, favorable)
        challenger = _fair(challenger, pairs.group, good_b, attribute, policy, favorable)
    difference = paired_difference(good_a, good_b, alpha=policy.alpha) if len(pairs) else None
    recommendation, reasons = recommend(
        champion, challenger, auc_diff, brier_diff, policy, n_labeled, positives, len(pairs)
    )
    return ChampionComparison(
        deployment=deployment,
        threshold=threshold,
        as_of=as_of,
        pairs=len(pairs),
        labeled_pairs=n_labeled,
        positives=positives,
        champion=champion,
        challenger=challenger,
        recommendation=recommendation,
        reasons=reasons,
        auc_difference=auc_diff,
        brier_difference=brier_diff,
        favorable_difference=difference,
        notes=notes,
        decision=decisions,
    )


def recommend(
    champion: ModelMetrics,
    challenger: ModelMetrics,
    auc_diff: AucDifference | None,
    brier_diff: PairedDifference | None,
    policy: Policy,
    labeled: int,
    positives: int,
    pairs: int,
) -> tuple[Recommendation, list[str]]:
    """``promote``, ``keep`` or ``inconclusive``, with the reasons in plain words."""
    if auc_diff is None:
        return "inconclusive", [
            f"not enough labeled pairs: {labeled} of {pairs} pairs have a mature outcome "
            f"({positives} positives); need {policy.min_labeled} with at least "
            f"{policy.min_class} of each class"
        ]
    reasons = []
    better = auc_diff.p_value < policy.alpha and auc_diff.difference > 0
    worse = auc_diff.p_value < policy.alpha and auc_diff.difference < 0
    lo, hi = auc_diff.ci
    reasons.append(
        f"AUC {auc_diff.auc_b:.3f} vs {auc_diff.auc_a:.3f} ({auc_diff.difference:+.3f}, "
        f"{1 - policy.alpha:.0%} CI {lo:+.3f} to {hi:+.3f}, DeLong p={auc_diff.p_value:.3g}): "
        + (
            "challenger ranks better"
            if better
            else "challenger ranks worse"
            if worse
            else "no significant difference"
        )
    )
    blockers = []
    air_b, air_a = challenger.adverse_impact, champion.adverse_impact
    if air_b is not None and air_b.flagged:
        was = f"{air_a.min_ratio:.2f}" if air_a and air_a.min_ratio is not None else "n/a"
        blockers.append(
            f"adverse impact ratio by {air_b.attribute} {air_b.min_ratio:.2f} is below "
            f"{policy.air_threshold} (champion {was})"
        )
    if brier_diff is not None and brier_diff.ci[0] > 0:
        blockers.append(
            f"calibration is worse: Brier {brier_diff.b:.4f} vs {brier_diff.a:.4f} "
            f"(p={brier_diff.p_value:.3g})"
        )
    p99_a, p99_b = champion.latency_p99_ms, challenger.latency_p99_ms
    if p99_a and p99_b and p99_b > policy.latency_ratio * p99_a:
        blockers.append(
            f"latency p99 {p99_b:.2f} ms is above {policy.latency_ratio} x the champion's "
            f"{p99_a:.2f} ms"
        )
    reasons += blockers
    if worse or blockers:
        return "keep", reasons
    if better:
        return "promote", reasons
    return "inconclusive", reasons


def _favorable(
    scores: NDArray[np.float64], threshold: float, decisions: Decisions
) -> NDArray[np.bool_]:
    """Where ``scores`` get the favorable decision (positive: ``score >= threshold``)."""
    positive = scores >= threshold
    return positive if decisions.favorable == "positive" else ~positive


def _metrics(
    model: str, scores: NDArray[np.float64], latency: NDArray[np.float64], favorable: NDArray[Any]
) -> ModelMetrics:
    finite = latency[~np.isnan(latency)]
    p99 = float(np.quantile(finite, 0.99)) if len(finite) else None
    rate = float(favorable.mean()) if len(scores) else math.nan
    return ModelMetrics(model, rate, p99)


def _labeled(
    m: ModelMetrics, y: NDArray[np.bool_], s: NDArray[np.float64], threshold: float, alpha: float
) -> ModelMetrics:
    return replace(
        m, auc=delong_auc(y, s, alpha=alpha), classification=classification(y, s, threshold)
    )


def _fair(
    m: ModelMetrics,
    groups: NDArray[Any],
    favorable: NDArray[Any],
    attribute: str,
    policy: Policy,
    decision: str,
) -> ModelMetrics:
    impact = adverse_impact(
        groups, favorable, attribute=attribute, threshold=policy.air_threshold, decision=decision
    )
    return replace(m, adverse_impact=impact)
