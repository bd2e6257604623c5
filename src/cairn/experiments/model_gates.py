"""Model-quality gates of a canary: does the canary *model* behave as well as the control?

The plumbing gates of :mod:`cairn.experiments.gates` judge errors, latency and the split. These
judge the model, canary against control on the rows of the stage:

- **score distribution**: PSI of the canary's scores over the control's score bins
  (:mod:`cairn.profiles`: the one binning and PSI of Cairn);
- **decision rate**: the always-valid two-sided sequential test
  (:func:`cairn.experiments.stats.sequential`) of the positive-decision rates;
- **performance**, on rows whose outcome has arrived: each arm's AUC with DeLong's variance
  (:func:`cairn.experiments.champion.delong_auc`; the arms score different units, so the
  difference's variance is the sum of theirs), widened to an always-valid bound by the same
  mixture multiplier as the sequential tests, so the controller may look at every interval;
  KS; and **calibration** (:func:`cairn.experiments.champion.classification`: ECE, observed
  positive rate vs mean score).

Example
-------
>>> rng = np.random.default_rng(0)
>>> def arm(n):
...     y = rng.random(n) < 0.2
...     s = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 2 * y - 1.8)))
...     return ArmScores.from_values(s, s >= 0.5, np.where(rng.random(n) < 0.5, y, np.nan))
>>> q = model_quality(arm(3000), arm(1000), alpha=0.05, n_star=1000)
>>> q["score_psi"] < 0.05, q["control_labeled"] > 1400, q["auc_lower"] < 0 < q["auc_upper"]
(True, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

from cairn.core.errors import ConfigError, DataError
from cairn.experiments.champion import classification, delong_auc, delong_test
from cairn.experiments.stats import Proportion, TestResult, sequential
from cairn.experiments.stats.sequential import one_sided_multiplier
from cairn.profiles import DEFAULT_BINS, NumericBins, psi

Floats = npt.NDArray[np.float64]
ARMS = ("control", "canary")


@dataclass(frozen=True, eq=False)
class ArmScores:
    """One arm's primary rows in the stage: score, positive decision, label (NaN: none yet).

    Example
    -------
    >>> a = ArmScores.from_values([0.1, 0.7, 0.4], [False, True, False], [0, 1, None])
    >>> a.n, a.labeled, a.decision_rate
    (3, 2, 0.3333333333333333)
    """

    scores: Floats
    positive: npt.NDArray[np.bool_]
    labels: Floats

    @classmethod
    def from_values(
        cls, scores: npt.ArrayLike, positive: npt.ArrayLike, labels: npt.ArrayLike
    ) -> ArmScores:
        """Columns of one arm (labels: 0/1, None or NaN where no outcome arrived)."""
        s = np.asarray(scores, dtype=np.float64)
        p = np.asarray(positive, dtype=bool)
        y = np.asarray([np.nan if v is None else v for v in np.asarray(labels, dtype=object)])
        y = y.astype(np.float64)
        if not len(s) == len(p) == len(y):
            raise ConfigError(
                f"scores, positive and labels need one value per row; got {len(s)}, {len(p)} "
                f"and {len(y)}."
            )
        keep = np.isfinite(s)
        return cls(s[keep], p[keep], y[keep])

    @property
    def n(self) -> int:
        """Rows with a score."""
        return len(self.scores)

    @property
    def labeled(self) -> int:
        """Rows whose outcome has arrived."""
        return int(np.isfinite(self.labels).sum())

    @property
    def decision_rate(self) -> float:
        """Share of rows with the positive decision."""
        return float(self.positive.mean()) if self.n else math.nan


def score_psi(control: Floats, canary: Floats) -> float:
    """PSI of the canary's scores over bins cut at the control's score quantiles.

    Scores are continuous, so the bins are always quantile intervals of the control's scores
    (never one bin per distinct value: another model's scores would all land in "other").

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.beta(2, 8, 4000), rng.beta(2, 8, 1000)
    >>> score_psi(a, b) < 0.02, score_psi(a, rng.beta(4, 6, 1000)) > 0.25
    (True, True)
    >>> few = rng.beta(2, 8, 2000).round(1)  # a model with 8 distinct scores; shifted by 0.01:
    >>> score_psi(few, rng.beta(2, 8, 2000).round(1) + 0.01) < 0.01  # not an "other" bin
    True
    """
    return score_shift(control, canary)[0]


def score_shift(control: Floats, canary: Floats) -> tuple[float, float]:
    """The score PSI (:func:`score_psi`) and how likely a PSI this large is between two samples
    of ONE score distribution.

    PSI is the symmetric (Jeffreys) divergence of the two binned shares; under no change,
    ``PSI x n1 n2 / (n1 + n2)`` is asymptotically chi-square with (bins - 1) degrees of freedom.
    Small samples give large PSIs by chance (about (bins - 1) (1/n1 + 1/n2) on average), so
    the score gate holds only on a PSI above its threshold AND unlikely by chance.

    Example
    -------
    >>> rng = np.random.default_rng(3)
    >>> value, p = score_shift(rng.beta(2, 8, 40), rng.beta(2, 8, 40))
    >>> value > 0.2, p > 0.01
    (True, True)
    """
    n1, n2 = len(control), len(canary)
    if not n1 or not n2:
        return math.nan, math.nan
    x = np.asarray(control, dtype=np.float64)
    x = x[np.isfinite(x)]
    cuts = np.arange(1, DEFAULT_BINS) / DEFAULT_BINS
    bins = NumericBins(np.unique(np.quantile(x, cuts)) if x.size else np.empty(0))
    value = psi(bins.count(control) / n1, bins.count(canary) / n2)
    p = float(chi2.sf(value * n1 * n2 / (n1 + n2), max(bins.size - 1, 1)))
    return value, p


def calibration_p(labels: npt.ArrayLike, scores: npt.ArrayLike, bins: int = 10) -> float:
    """How likely labels this far from their scores are if the scores ARE the probabilities
    (a Hosmer-Lemeshow test over the reliability table's score bins ``[0, 0.1)`` ...).

    ECE alone is biased upwards on few labels (a perfectly calibrated model shows about
    ``sum_b w_b sqrt(2 p_b (1 - p_b) / (pi n_b))``), so the calibration gate holds only on an ECE
    increase AND a canary whose miscalibration is unlikely by chance.

    Example
    -------
    >>> rng = np.random.default_rng(5)
    >>> s = rng.uniform(0.05, 0.6, 2000)
    >>> calibration_p(rng.random(2000) < s, s) > 0.01
    True
    >>> calibration_p(rng.random(2000) < s + 0.15, s) < 1e-6
    True
    """
    y = np.asarray(labels, dtype=np.float64) > 0
    s = np.clip(np.asarray(scores, dtype=np.float64), 1e-12, 1 - 1e-12)
    if len(s) == 0:
        return math.nan
    which = np.minimum((s * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    observed = np.bincount(which, weights=y.astype(np.float64), minlength=bins)
    expected = np.bincount(which, weights=s, minlength=bins)
    variance = np.bincount(which, weights=s * (1 - s), minlength=bins)
    used = (n > 0) & (variance > 0)
    if not used.any():
        return math.nan
    statistic = float(np.sum((observed[used] - expected[used]) ** 2 / variance[used]))
    return float(chi2.sf(statistic, int(used.sum())))


def decision_rate_test(
    control: ArmScores, canary: ArmScores, *, alpha: float, n_star: float
) -> TestResult:
    """Always-valid two-sided test of canary minus control positive-decision rate."""
    return sequential(
        Proportion(control.n, float(control.positive.sum())),
        Proportion(canary.n, float(canary.positive.sum())),
        relative=False,
        alpha=alpha,
        n_star=n_star,
    )


def model_quality(
    control: ArmScores, canary: ArmScores, *, alpha: float, n_star: float
) -> dict[str, Any]:
    """Every model-quality number of the two arms, flat and JSON-ready (None: not computable).

    Keys: ``score_psi``; ``{arm}_decision_rate``, ``decision_rate_diff``/``_low``/``_high``/
    ``_p``; ``{arm}_labeled``, ``{arm}_auc``, ``{arm}_ks``, ``{arm}_ece``,
    ``{arm}_observed_rate``, ``{arm}_mean_score``; ``auc_diff`` and its always-valid
    ``auc_lower``/``auc_upper`` (each one-sided at ``alpha``).
    """
    value, p = score_shift(control.scores, canary.scores)
    out: dict[str, Any] = {"score_psi": _num(value), "score_psi_p": _num(p)}
    rate = decision_rate_test(control, canary, alpha=alpha, n_star=n_star)
    ok = rate.error is None
    out.update(
        control_decision_rate=_num(control.decision_rate),
        canary_decision_rate=_num(canary.decision_rate),
        decision_rate_diff=_num(rate.expected) if ok else None,
        decision_rate_low=_num(rate.ci[0]) if ok else None,
        decision_rate_high=_num(rate.ci[1]) if ok else None,
        decision_rate_p=rate.p_value,
    )
    aucs: dict[str, tuple[float, float]] = {}
    for name, arm in zip(ARMS, (control, canary), strict=True):
        out[f"{name}_labeled"] = arm.labeled
        seen = np.isfinite(arm.labels)
        y, s = arm.labels[seen] > 0, arm.scores[seen]
        metrics: dict[str, float | None] = {
            "auc": None,
            "ks": None,
            "ece": None,
            "calibration_p": None,
            "observed_rate": None,
            "mean_score": None,
        }
        if len(y):
            c = classification(y, s, threshold=0.5)
            metrics.update(
                ks=c.ks,
                ece=c.expected_calibration_error,
                calibration_p=calibration_p(y, s),
                observed_rate=float(y.mean()),
                mean_score=float(s.mean()),
            )
            try:
                result = delong_auc(y, s)
                aucs[name] = (result.auc, result.se)
                metrics["auc"] = result.auc
            except DataError:  # one class only: no AUC yet
                pass
        out.update({f"{name}_{k}": v for k, v in metrics.items()})
    out.update(auc_diff=None, auc_lower=None, auc_upper=None)
    if len(aucs) == 2:
        (a, se_a), (b, se_b) = aucs["control"], aucs["canary"]
        se = math.hypot(se_a, se_b)
        labeled = control.labeled + canary.labeled
        width = one_sided_multiplier(labeled, alpha, n_star) * se
        out.update(auc_diff=b - a, auc_lower=b - a - width, auc_upper=b - a + width)
    return out


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ShadowEvidence:
    """A shadow comparison of the candidate version against the champion on the same requests
    (paired DeLong), with the always-valid lower bound of candidate minus champion AUC.

    Example
    -------
    >>> rng = np.random.default_rng(2)
    >>> y = rng.random(4000) < 0.2
    >>> champion = rng.normal(0, 1, 4000) + 2 * y
    >>> e = shadow_evidence(y, champion, champion + rng.normal(0, 0.1, 4000), 0.05, 1000)
    >>> e.labeled, abs(e.auc_diff) < 0.01, e.auc_lower > -0.02
    (4000, True, True)
    """

    labeled: int
    champion_auc: float
    candidate_auc: float
    auc_diff: float
    auc_lower: float

    def to_numbers(self) -> dict[str, Any]:
        """The numbers a gate decision records (prefixed ``shadow_``)."""
        return {
            "shadow_labeled": self.labeled,
            "shadow_champion_auc": self.champion_auc,
            "shadow_candidate_auc": self.candidate_auc,
            "shadow_auc_diff": self.auc_diff,
            "shadow_auc_lower": self.auc_lower,
        }


def shadow_evidence(
    labels: npt.ArrayLike,
    champion: npt.ArrayLike,
    candidate: npt.ArrayLike,
    alpha: float,
    n_star: float,
) -> ShadowEvidence | None:
    """Paired DeLong comparison of shadow pairs with a label (None: no pair has both classes)."""
    y = np.asarray(labels, dtype=np.float64)
    seen = np.isfinite(y)
    a = np.asarray(champion, dtype=np.float64)[seen]
    b = np.asarray(candidate, dtype=np.float64)[seen]
    try:
        d = delong_test(y[seen], a, b)
    except DataError:
        return None
    n = int(seen.sum())
    width = one_sided_multiplier(n, alpha, n_star) * d.se
    return ShadowEvidence(n, d.auc_a, d.auc_b, d.difference, d.difference - width)
