"""The calibration signal: does the score still mean the probability it says?

Over the window's matured labels, the scores are cut into ten score deciles on [0, 1]
(``[0, 0.1)``, ..., ``[0.9, 1]``, the reliability table of
:func:`cairn.experiments.champion.calibration.classification`) and each decile's observed
label rate is set against its mean score; the expected calibration error (ECE) is their
count-weighted mean absolute gap. The signal is raised when the ECE exceeds ``max_ece`` and at
least ``min_labeled`` labeled predictions back it: a model whose mean score is 0.21 while half
of the cases turn out positive is miscalibrated whatever its AUC, and a decision threshold set
on its scores no longer means what it did.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> scores = rng.uniform(0.1, 0.3, 1000)
>>> check_calibration(scores, (rng.random(1000) < 0.52).astype(float)).raised
True
>>> check_calibration(scores, (rng.random(1000) < scores).astype(float)).raised
False
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError
from cairn.experiments.champion.calibration import classification

__all__ = ["MAX_ECE", "MIN_LABELED", "CalibrationCheck", "check_calibration"]

MAX_ECE = 0.1
"""Default ECE above which the calibration signal is raised."""
MIN_LABELED = 200
"""Default number of labeled predictions the calibration and label-rate signals need."""

CheckStatus = Literal["judged", "too_few"]


@dataclass(frozen=True)
class CalibrationCheck:
    """Observed label rate vs mean score per score decile, and the ECE over them.

    ``status`` is ``too_few`` (fewer than ``min_labeled`` labeled predictions: ``ece`` is
    None and nothing is raised) or ``judged``. ``deciles`` lists the non-empty deciles as
    ``{"low", "high", "count", "mean_score", "observed_rate"}``.
    """

    status: CheckStatus
    labeled: int
    min_labeled: int
    max_ece: float
    ece: float | None = None
    mean_score: float | None = None
    observed_rate: float | None = None
    deciles: list[dict[str, float]] = field(default_factory=list)

    @property
    def raised(self) -> bool:
        """Judged, and the ECE is above ``max_ece``."""
        return self.status == "judged" and self.ece is not None and self.ece > self.max_ece

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``raised``)."""
        return {**asdict(self), "raised": self.raised}

    def describe(self) -> str:
        """One line for people."""
        if self.status == "too_few" or self.ece is None:
            return f"calibration: {self.labeled:,} labeled, judged from {self.min_labeled:,}"
        verdict = "miscalibrated" if self.raised else "calibrated"
        return (
            f"calibration: ECE {self.ece:.3f} ({verdict}, limit {self.max_ece:g}); mean score "
            f"{self.mean_score:.3f} vs observed rate {self.observed_rate:.3f} on "
            f"{self.labeled:,} labeled"
        )


def check_calibration(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    max_ece: float = MAX_ECE,
    min_labeled: int = MIN_LABELED,
) -> CalibrationCheck:
    """Judge calibration on the pairs whose label arrived (NaN labels or scores are left out).

    Labels are 0/1 (anything above 0.5 counts as positive, as in the reliability table).
    """
    if not 0 < max_ece < 1:
        raise ConfigError(f"max_ece must be in (0, 1); got {max_ece!r}.")
    if min_labeled < 1:
        raise ConfigError(f"min_labeled must be at least 1; got {min_labeled!r}.")
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    has = ~np.isnan(s) & ~np.isnan(y)
    s, y = s[has], y[has]
    if len(s) < min_labeled:
        return CalibrationCheck("too_few", len(s), min_labeled, max_ece)
    table = classification(y, s, threshold=0.5, bins=10)
    deciles = [
        {
            "low": b.low,
            "high": b.high,
            "count": float(b.count),
            "mean_score": b.mean_score,
            "observed_rate": b.observed_rate,
        }
        for b in table.reliability
    ]
    return CalibrationCheck(
        "judged", len(s), min_labeled, max_ece, ece=table.expected_calibration_error,
        mean_score=float(s.mean()), observed_rate=float((y > 0.5).mean()), deciles=deciles,
    )  # fmt: skip
