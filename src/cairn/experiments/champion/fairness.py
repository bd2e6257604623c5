"""Adverse impact ratio: each group's rate of the favorable decision over the highest group's.

The favorable decision is the one good for the person decided on: the deployment's
``decision.favorable`` (approve for credit, allow for fraud, follow_up for an outreach model
whose contact is an offer).

The US "four-fifths rule" (EEOC Uniform Guidelines, used in fair-lending reviews) flags a
group whose ratio is below 0.8. Groups with fewer than ``min_group`` cases are reported but
neither serve as the reference nor raise the flag, so one tiny group cannot decide a review.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

FOUR_FIFTHS = 0.8


@dataclass(frozen=True)
class GroupRate:
    """One group's cases, rate of the favorable decision and ratio to the reference group."""

    group: str
    count: int
    rate: float
    ratio: float | None

    @property
    def approval_rate(self) -> float:
        """0.1's name of :attr:`rate` (credit's favorable decision is approve)."""
        return self.rate


@dataclass(frozen=True)
class AdverseImpact:
    """Rates of the favorable decision by a protected attribute and the adverse impact ratios.

    ``min_ratio`` is the lowest ratio among groups large enough to judge; ``flagged`` says it
    is below ``threshold``; ``decision`` names the favorable decision whose rates they are.
    """

    attribute: str
    groups: list[GroupRate]
    reference: str | None
    min_ratio: float | None
    threshold: float
    flagged: bool
    decision: str = "approve"


def adverse_impact(
    groups: ArrayLike,
    favorable: ArrayLike,
    *,
    attribute: str = "group",
    threshold: float = FOUR_FIFTHS,
    min_group: int = 30,
    decision: str = "approve",
) -> AdverseImpact:
    """Adverse impact ratios of the ``favorable`` decisions across ``groups``.

    Parameters
    ----------
    groups
        The protected attribute per case (None counts as ``(missing)``).
    favorable
        True where the case got the favorable decision (for credit: approved).
    decision
        The favorable decision's name, for reports.

    Example
    -------
    >>> g = ["a"] * 50 + ["b"] * 50
    >>> ok = [True] * 40 + [False] * 10 + [True] * 25 + [False] * 25
    >>> r = adverse_impact(g, ok)
    >>> r.reference, round(r.min_ratio, 4), r.flagged
    ('a', 0.625, True)
    """
    labels = np.asarray(groups, dtype=object)
    labels = np.where(pd.isna(labels), "(missing)", labels).astype(str)
    yes = np.asarray(favorable, dtype=bool)
    names, index = np.unique(labels, return_inverse=True)
    counts = np.bincount(index, minlength=len(names))
    approvals = np.bincount(index, weights=yes.astype(np.float64), minlength=len(names))
    rates = approvals / np.maximum(counts, 1)
    judged = counts >= min_group
    if judged.sum() < 2 or rates[judged].max() == 0:  # a ratio needs two groups to compare
        rows = [
            GroupRate(str(n), int(c), float(r), None)
            for n, c, r in zip(names, counts, rates, strict=True)
        ]
        return AdverseImpact(attribute, rows, None, None, threshold, False, decision)
    best = int(np.argmax(np.where(judged, rates, -1.0)))
    ratios = rates / rates[best]
    rows = [
        GroupRate(str(n), int(c), float(r), float(q))
        for n, c, r, q in zip(names, counts, rates, ratios, strict=True)
    ]
    low = float(ratios[judged].min())
    return AdverseImpact(
        attribute, rows, str(names[best]), low, threshold, low < threshold, decision
    )
