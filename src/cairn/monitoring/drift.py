"""Compare current data with a reference profile: every feature and the score (DESIGN §3.5).

:func:`compute_drift` reads each profiled feature from the current table (pandas or Arrow),
computes PSI (the decision), Evidently's PSI, KS, Jensen–Shannon, χ², normalised Wasserstein,
the missing-share test and unseen categories, then applies the
:class:`~cairn.monitoring.thresholds.DriftThresholds`: PSI bands per feature, and — when
``alpha`` is set — the KS/χ² p-values corrected across features. Work is vectorised per column
(a sort or a hash per column, no Python loop over rows). A feature that cannot be compared
gets ``status="error"`` and a reason; the run goes on.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> def frame(shift, n):
...     return pd.DataFrame({"income": rng.normal(3000 + shift, 500, n),
...                          "age": rng.normal(40, 10, n), "score": rng.random(n)})
>>> profile = ReferenceProfile.build(frame(0, 20_000), categorical=set(), score_column="score")
>>> report = compute_drift(profile, frame(400, 5_000))
>>> report.drifted_features(), report.feature("age").band, report.score.band
(['income'], 'stable', 'stable')
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Literal

import pandas as pd
import pyarrow as pa

from cairn.core.errors import ConfigError, DataError
from cairn.experiments.stats import adjust_p_values
from cairn.monitoring._categorical import categorical_drift
from cairn.monitoring._numeric import numeric_drift
from cairn.monitoring.results import DriftReport, FeatureDrift
from cairn.monitoring.thresholds import CORRECTIONS, DriftThresholds
from cairn.profiles import ColumnReference, NumericReference, ReferenceProfile
from cairn.profiles._values import columns_of, numeric_values, row_count, text_values

__all__ = ["DriftReport", "FeatureDrift", "compute_drift"]

SCORE = "score"


def compute_drift(
    profile: ReferenceProfile,
    current: pa.Table | pd.DataFrame,
    *,
    thresholds: DriftThresholds | None = None,
    correction: Literal["bonferroni", "bh"] | None = "bh",
    score_column: str | None = "score",
    features: Collection[str] | None = None,
) -> DriftReport:
    """Drift of every profiled feature, and of the score, in ``current`` against ``profile``.

    Parameters
    ----------
    profile:
        The reference (from the model version's ``reference_profile.json``).
    current:
        The current rows: one column per profiled feature (extra columns are ignored).
    thresholds:
        Bands and gates; the default is PSI bands 0.1 / 0.25 and the missing-share gate.
    correction:
        How the KS/χ² p-values are adjusted across features when ``thresholds.alpha`` gates:
        ``bh`` (Benjamini–Hochberg), ``bonferroni`` or None.
    score_column:
        The column of ``current`` holding the model's score (None: do not compare the score).
    features:
        Compare only these profiled features (default: all; ``()``: only the score).
    """
    if correction is not None and correction not in CORRECTIONS:
        raise ConfigError(
            f"correction must be one of {', '.join(CORRECTIONS)} or None; got {correction!r}."
        )
    limits = thresholds if thresholds is not None else DriftThresholds()
    present = set(columns_of(current))
    chosen = _chosen(profile, features)
    measured = [
        _measure(name, profile.features[name], current, present, profile) for name in chosen
    ]
    results = _gate_p_values(measured, limits, correction)
    score = None
    if profile.score is not None and score_column is not None:
        found = _measure(score_column, profile.score, current, present, profile)
        score = _decide(replace(found, feature=SCORE), limits, found.p_value)
    return DriftReport(results, score, row_count(current), correction)


def _chosen(profile: ReferenceProfile, features: Collection[str] | None) -> list[str]:
    if features is None:
        return list(profile.features)
    unknown = sorted(set(features) - set(profile.features))
    if unknown:
        raise DataError(
            f"features {', '.join(map(repr, unknown))} are not in the reference profile; it "
            f"profiles {', '.join(profile.features) or 'no features'}."
        )
    wanted = set(features)
    return [name for name in profile.features if name in wanted]


def _measure(
    column: str,
    ref: ColumnReference,
    current: pa.Table | pd.DataFrame,
    present: set[str],
    profile: ReferenceProfile,
) -> FeatureDrift:
    if column not in present:
        return FeatureDrift(
            column, ref.kind, "error", None, rows=row_count(current),
            error=f"the current data has no column {column!r}",
            null_share_reference=ref.missing,
        )  # fmt: skip
    try:
        if isinstance(ref, NumericReference):
            return numeric_drift(column, ref, numeric_values(current, column))
        return categorical_drift(column, ref, text_values(current, column))
    except DataError as exc:
        return FeatureDrift(
            column, ref.kind, "error", None, rows=row_count(current), error=str(exc),
            null_share_reference=ref.missing,
        )  # fmt: skip


def _gate_p_values(
    features: list[FeatureDrift], limits: DriftThresholds, correction: str | None
) -> list[FeatureDrift]:
    tested = [i for i, f in enumerate(features) if f.p_value is not None]
    raw = [float(features[i].p_value) for i in tested]  # type: ignore[arg-type]
    adjusted = adjust_p_values(raw, correction) if correction else raw  # type: ignore[arg-type]
    by_index = dict(zip(tested, adjusted, strict=True))
    return [_decide(f, limits, by_index.get(i)) for i, f in enumerate(features)]


def _decide(f: FeatureDrift, limits: DriftThresholds, p_adjusted: float | None) -> FeatureDrift:
    if f.status != "ok" or f.psi is None:
        return f
    band = limits.band(f.feature, f.psi)
    reasons = ["psi"] if band == "drift" else []
    if limits.alpha is not None and p_adjusted is not None and p_adjusted < limits.alpha:
        reasons.append("p_value")
    if limits.null_share is not None and _null_moved(f, limits.null_share, limits.null_alpha):
        reasons.append("null_share")
    if limits.js is not None and (f.js_distance or 0.0) >= limits.js:
        reasons.append("js")
    if limits.wasserstein is not None and (f.wasserstein_norm or 0.0) >= limits.wasserstein:
        reasons.append("wasserstein")
    return replace(
        f, band=band, p_value_adjusted=p_adjusted, drifted=bool(reasons), reasons=reasons
    )


def _null_moved(f: FeatureDrift, share: float, alpha: float) -> bool:
    if f.null_share_reference is None or f.null_share_current is None or f.null_p_value is None:
        return False
    moved = abs(f.null_share_current - f.null_share_reference) >= share
    return moved and f.null_p_value < alpha
