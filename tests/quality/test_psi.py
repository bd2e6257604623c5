"""PSI math (DESIGN §3.5) through quality's old import path: bins, epsilon, bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cairn.profiles import NumericBins, numeric_bins
from cairn.quality.psi import EPSILON, band, psi


def test_identical_distributions_have_zero_psi() -> None:
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_known_value_and_symmetric_epsilon() -> None:
    expected = (0.6 - 0.5) * math.log(0.6 / 0.5) + (0.4 - 0.5) * math.log(0.4 / 0.5)
    assert psi([0.5, 0.5], [0.6, 0.4]) == pytest.approx(expected)
    # an empty bin is floored at epsilon on either side, so PSI is finite and symmetric
    one_way = psi([1.0, 0.0], [0.0, 1.0])
    assert math.isfinite(one_way) and one_way == pytest.approx(psi([0.0, 1.0], [1.0, 0.0]))
    floor = (1 - EPSILON) * math.log(1 / EPSILON) * 2
    assert one_way == pytest.approx(floor)
    with pytest.raises(ValueError, match="same bins"):
        psi([0.5, 0.5], [1.0])


def test_quantile_edges_need_two_bins_and_few_values_are_value_bins() -> None:
    assert numeric_bins([1, 1, 1, 1, 2], bins=4).points.tolist() == [1.0, 2.0]
    assert numeric_bins(np.arange(100.0), bins=4).edges.tolist() == [24.75, 49.5, 74.25]
    assert numeric_bins([np.nan, np.nan]).size == 1
    with pytest.raises(ValueError, match="bins must be at least 2"):
        numeric_bins([1.0], bins=1)


def test_outer_bins_are_open_and_closed_on_the_left() -> None:
    counts = NumericBins(np.array([1.0, 5.0])).count([-1e9, 1.0, 2.0, 5.0, 1e9])
    # (-inf, 1): -1e9 | [1, 5): 1, 2 | [5, inf): 5, 1e9
    assert counts.tolist() == [1, 2, 2]


def test_bands() -> None:
    assert [band(0.05), band(0.1), band(0.25), band(0.3)] == [
        "stable",
        "monitor",
        "monitor",
        "drift",
    ]
