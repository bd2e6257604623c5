"""What a drift computation found: one :class:`FeatureDrift` per feature, a :class:`DriftReport`.

:class:`FeatureDrift` is the one drift result of a feature: :func:`~cairn.monitoring.compute_drift`
computes it, a monitoring run tags it with its ``segment`` (and the score's ``kind`` with
``score``), :class:`~cairn.monitoring.MonitorHistory` stores it as JSON and reads it back, and
alerts, gauges and the report read its fields. ``FeatureResult`` (the name runs and the history
use) is the same class.

A feature's ``status`` is ``ok``, or ``error`` when it could not be compared (the column is
missing, empty, all null, not numeric, or the reference has no values); then ``error`` says
why, ``band`` is None and the metrics that could not be computed are None — the run itself does
not fail. ``drifted`` is the decision; ``reasons`` lists what made it (``psi``, ``p_value``,
``null_share``, ``js``, ``wasserstein``). ``labels``, ``reference_proportions`` and
``current_proportions`` are the PSI bins, for reports.

Example
-------
>>> f = FeatureDrift("income", "numeric", "ok", "drift", psi=0.4, drifted=True,
...                  reasons=["psi"], rows=10)
>>> r = DriftReport([f], None, 10)
>>> r.drifted_features(), DriftReport.from_dict(r.to_dict()) == r
(['income'], True)
>>> FeatureDrift.from_dict({"feature": "age", "kind": "numeric", "status": "ok",
...                         "band": "stable"}).p_value is None  # a row stored before p-values
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

__all__ = ["ALL", "DriftReport", "FeatureDrift", "FeatureResult", "Status", "unusable"]

Status = Literal["ok", "error"]
ALL = ""
"""The segment of all traffic."""


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature (or of the score) between the reference and the current data, for
    all traffic or one segment.

    Parameters
    ----------
    feature, kind:
        The feature name (``score`` for the score) and ``numeric`` or ``categorical`` (in a
        monitoring run's results the score's kind is ``score``).
    status, error:
        ``ok``, or ``error`` with the reason in ``error``.
    band:
        ``stable``, ``monitor`` or ``drift`` by PSI (None on error).
    drifted, reasons:
        The decision and what made it.
    rows:
        Current rows.
    psi, psi_evidently:
        PSI as DESIGN §3.5, and Evidently's PSI against the reference sample.
    ks_statistic, ks_p_value:
        Two-sample KS of the reference sample and the current values (numeric only).
    js_distance:
        Jensen–Shannon distance (base 2) over the PSI bins.
    chi2_statistic, chi2_p_value:
        Two-sample χ² (contingency) over the PSI bins.
    wasserstein_norm:
        Wasserstein distance of sample and current values over the reference std.
    null_share_reference, null_share_current, null_p_value:
        Missing shares and the two-proportion test of their difference.
    unseen_categories, unseen_share:
        The most frequent current categories the reference never listed (at most 20), and the
        share of current rows outside the reference's categories (categorical only).
    p_value, p_value_adjusted:
        The gating test's p-value (KS for numeric, χ² for categorical) and after correction.
    labels, reference_proportions, current_proportions:
        PSI bins and their shares on both sides.
    segment:
        ``COLUMN=VALUE`` in a monitoring run's per-segment results; empty (:data:`ALL`) for
        all traffic.
    """

    feature: str
    kind: str
    status: Status
    band: str | None
    drifted: bool = False
    rows: int = 0
    psi: float | None = None
    psi_evidently: float | None = None
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    js_distance: float | None = None
    chi2_statistic: float | None = None
    chi2_p_value: float | None = None
    wasserstein_norm: float | None = None
    null_share_reference: float | None = None
    null_share_current: float | None = None
    null_p_value: float | None = None
    unseen_categories: list[str] = field(default_factory=list)
    unseen_share: float | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    labels: list[str] = field(default_factory=list)
    reference_proportions: list[float] = field(default_factory=list)
    current_proportions: list[float] = field(default_factory=list)
    segment: str = ALL

    @property
    def state(self) -> str:
        """The band, or ``error`` when the column could not be compared."""
        return "error" if self.status == "error" or self.band is None else self.band

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureDrift:
        """Read :meth:`to_dict`'s output (unknown keys are ignored; absent ones take their
        defaults, so results stored before a field existed still read)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def of(
        cls, drift: FeatureDrift, *, kind: str | None = None, segment: str = ALL
    ) -> FeatureDrift:
        """``drift`` as a result of ``segment`` (and of ``kind``, e.g. ``score``)."""
        return replace(drift, kind=kind or drift.kind, segment=segment)


FeatureResult = FeatureDrift
"""A monitoring run's name for :class:`FeatureDrift` (the same class)."""


@dataclass(frozen=True)
class DriftReport:
    """Every feature's drift, the score's, and the current rows compared.

    Parameters
    ----------
    features:
        One entry per profiled feature, in profile order.
    score:
        The score's drift (None when the profile or the data has no score).
    rows:
        Current rows.
    correction:
        How p-values were adjusted across features (``bonferroni``, ``bh`` or None).
    """

    features: list[FeatureDrift]
    score: FeatureDrift | None
    rows: int
    correction: str | None = None

    def drifted_features(self) -> list[str]:
        """Names of the features flagged as drifted (the score is not a feature)."""
        return [f.feature for f in self.features if f.drifted]

    def errors(self) -> dict[str, str]:
        """Feature (or ``score``) -> why it could not be compared."""
        every = [*self.features, *([self.score] if self.score is not None else [])]
        return {f.feature: f.error or "" for f in every if f.status == "error"}

    def feature(self, name: str) -> FeatureDrift:
        """One feature's drift (KeyError naming the features when absent)."""
        for f in self.features:
            if f.feature == name:
                return f
        known = ", ".join(f.feature for f in self.features)
        raise KeyError(f"no feature {name!r} in this drift report; features are {known}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` reads it back)."""
        return {
            "rows": self.rows,
            "correction": self.correction,
            "features": [f.to_dict() for f in self.features],
            "score": self.score.to_dict() if self.score is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DriftReport:
        """Read :meth:`to_dict`'s output."""
        score = d.get("score")
        return cls(
            [FeatureDrift.from_dict(f) for f in d.get("features", [])],
            FeatureDrift.from_dict(score) if score is not None else None,
            int(d.get("rows", 0)),
            d.get("correction"),
        )


def unusable(
    feature: str,
    kind: str,
    *,
    reference_empty: bool,
    reference_null_share: float,
    rows: int,
    missing: int,
) -> FeatureDrift | None:
    """The ``error`` result of a column that cannot be compared, or None when it can: the
    reference has no values, there are no current rows, or every current value is null."""
    if reference_empty:
        reason = "the reference has no values for this feature"
    elif rows == 0:
        reason = "no current rows"
    elif missing == rows:
        reason = f"all {rows} current values are null"
    else:
        return None
    return FeatureDrift(
        feature, kind, "error", None, error=reason, rows=rows,
        null_share_reference=reference_null_share,
        null_share_current=missing / rows if rows else None,
    )  # fmt: skip
