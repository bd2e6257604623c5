"""KS, precision/recall, Brier and reliability, paired differences and adverse impact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp
from sklearn.metrics import brier_score_loss, precision_score, recall_score

from cairn.experiments.champion import (
    adverse_impact,
    classification,
    ks_statistic,
    paired_difference,
    reliability_table,
)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 200))
def test_metrics_agree_with_scipy_and_sklearn(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.4).astype(float)
    y[:2] = [0.0, 1.0]
    s = np.round(np.clip(y * 0.2 + rng.uniform(size=n) * 0.8, 0, 1), 2)
    c = classification(y, s, threshold=0.5)
    assert c.ks == pytest.approx(ks_2samp(s[y > 0], s[y == 0]).statistic, abs=1e-12)
    assert c.brier == pytest.approx(brier_score_loss(y, s), abs=1e-12)
    flagged = (s >= 0.5).astype(int)
    if flagged.any():
        assert c.precision == pytest.approx(precision_score(y, flagged, zero_division=0.0))
    assert c.recall == pytest.approx(recall_score(y, flagged))
    assert sum(b.count for b in c.reliability) == n


def test_reliability_bins_hold_their_means() -> None:
    table = reliability_table([0, 0, 1, 1, 1], [0.05, 0.15, 0.12, 0.95, 1.0], bins=10)
    assert [(b.low, b.count) for b in table] == [(0.0, 1), (0.1, 2), (0.9, 2)]
    assert table[1].mean_score == pytest.approx(0.135) and table[1].observed_rate == 0.5
    assert table[2].observed_rate == 1.0  # a score of exactly 1 falls in the last bin


def test_ks_statistic_of_separated_classes_is_one() -> None:
    assert ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_paired_difference_uses_per_case_differences() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=400)
    b = a + 0.1 + rng.normal(scale=0.01, size=400)  # strongly paired: tiny standard error
    d = paired_difference(a, b)
    assert d.difference == pytest.approx(float(np.mean(b - a)))
    assert d.se == pytest.approx(float(np.std(b - a, ddof=1) / np.sqrt(400)))
    assert d.se < 0.001 and d.p_value is not None and d.p_value < 1e-10


def test_paired_difference_of_nothing_says_so() -> None:
    d = paired_difference([], [])
    assert d.n == 0 and d.p_value is None


def test_adverse_impact_four_fifths_rule() -> None:
    groups = ["a"] * 100 + ["b"] * 100 + ["tiny"] * 5 + [None] * 40
    approved = [True] * 60 + [False] * 40 + [True] * 45 + [False] * 55 + [False] * 5 + [True] * 40
    r = adverse_impact(groups, approved, attribute="sex")
    rates = {g.group: g for g in r.groups}
    assert r.reference == "(missing)"  # every missing-attribute case was approved
    assert rates["a"].ratio == pytest.approx(0.6) and rates["b"].ratio == pytest.approx(0.45)
    assert rates["tiny"].count == 5 and r.min_ratio == pytest.approx(0.45)  # tiny is not judged
    assert r.flagged and r.attribute == "sex"


def test_adverse_impact_without_judgeable_groups_is_not_flagged() -> None:
    r = adverse_impact(["a", "b"], [True, False])
    assert not r.flagged and r.min_ratio is None and r.reference is None
