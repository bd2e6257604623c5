"""The label-rate signal: is the share of positive outcomes still the one the model learnt?

The window's observed positive-label rate (matured labels only) is compared with the label
rate of the model version's training reference (``label.rate`` and ``label.count`` of its
reference profile) by the pooled two-proportion z-test
(:func:`cairn.profiles.shares.two_proportion_p`, the test training's split checks and the
missing-share drift test use).
The signal is raised when at least ``min_labeled`` labels back it, the test rejects at
``alpha`` and the rates differ by more than ``min_difference`` (absolute): with tens of
thousands of labels a 0.3-point move is "significant" and still not worth a page. A default
rate going from 9 % to 52 % moves calibration, thresholds and every rate-dependent metric,
even when the inputs look stable.

Example
-------
>>> import numpy as np
>>> labels = (np.arange(1000) % 100 < 52).astype(float)
>>> check_label_rate(labels, reference_rate=0.09, reference_count=5000).raised
True
>>> check_label_rate(labels, reference_rate=0.51, reference_count=5000).raised
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError
from cairn.monitoring.calibration_signal import MIN_LABELED
from cairn.profiles.shares import two_proportion_p

__all__ = ["ALPHA", "MIN_DIFFERENCE", "LabelRateCheck", "check_label_rate", "reference_label"]

ALPHA = 0.01
"""Default level of the two-proportion test."""
MIN_DIFFERENCE = 0.05
"""Default smallest absolute rate difference that raises the signal."""


@dataclass(frozen=True)
class LabelRateCheck:
    """The window's positive-label rate against the training reference's.

    ``status``: ``judged``, ``too_few`` (fewer than ``min_labeled`` labels) or
    ``no_reference`` (the reference profile has no label rate).
    """

    status: Literal["judged", "too_few", "no_reference"]
    labeled: int
    min_labeled: int
    alpha: float
    min_difference: float
    observed_rate: float | None = None
    reference_rate: float | None = None
    reference_count: int | None = None
    difference: float | None = None
    p_value: float | None = None

    @property
    def raised(self) -> bool:
        """Judged, significant at ``alpha`` and further apart than ``min_difference``."""
        return (
            self.status == "judged"
            and self.p_value is not None
            and self.difference is not None
            and self.p_value < self.alpha
            and abs(self.difference) > self.min_difference
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``raised``)."""
        return {**asdict(self), "raised": self.raised}

    def describe(self) -> str:
        """One line for people."""
        if self.status == "no_reference":
            return "label rate: the reference profile has no label rate"
        if self.status == "too_few" or self.observed_rate is None:
            return f"label rate: {self.labeled:,} labeled, judged from {self.min_labeled:,}"
        verdict = "moved" if self.raised else "as in training"
        return (
            f"label rate: {self.observed_rate:.1%} on {self.labeled:,} labeled vs "
            f"{self.reference_rate:.1%} in training (p = {self.p_value:.2g}; {verdict})"
        )


def reference_label(label: Mapping[str, Any] | None) -> tuple[float | None, int | None]:
    """``(rate, count)`` of a reference profile's ``label`` entry (None when absent)."""
    if not label or label.get("rate") is None:
        return None, None
    count = label.get("count")
    return float(label["rate"]), None if count is None else int(count)


def check_label_rate(
    labels: npt.ArrayLike,
    *,
    reference_rate: float | None,
    reference_count: int | None,
    alpha: float = ALPHA,
    min_difference: float = MIN_DIFFERENCE,
    min_labeled: int = MIN_LABELED,
) -> LabelRateCheck:
    """Compare the positive share of ``labels`` (0/1; NaN: not arrived) with the reference."""
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1); got {alpha!r}.")
    if not 0 <= min_difference < 1:
        raise ConfigError(f"min_difference must be in [0, 1); got {min_difference!r}.")
    y = np.asarray(labels, dtype=np.float64)
    y = y[~np.isnan(y)]
    common: dict[str, Any] = {
        "labeled": len(y),
        "min_labeled": min_labeled,
        "alpha": alpha,
        "min_difference": min_difference,
    }
    if reference_rate is None or not reference_count:
        return LabelRateCheck("no_reference", **common)
    if len(y) < min_labeled:
        return LabelRateCheck("too_few", **common, reference_rate=reference_rate,
                              reference_count=reference_count)  # fmt: skip
    positive = int((y > 0.5).sum())
    rate = positive / len(y)
    p = two_proportion_p(positive, len(y), round(reference_rate * reference_count), reference_count)
    return LabelRateCheck(
        "judged", **common, observed_rate=rate, reference_rate=reference_rate,
        reference_count=reference_count, difference=rate - reference_rate, p_value=p,
    )  # fmt: skip
