"""Holm, Benjamini–Hochberg and Bonferroni against statsmodels and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from cairn.core.errors import ConfigError
from cairn.experiments.stats import adjust_p_values

STATSMODELS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni"}


@pytest.mark.parametrize("method", ["holm", "bh", "bonferroni"])
@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_statsmodels(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 8), rng.uniform(0, 0.01, 4), [0.02, 0.02]])
    rng.shuffle(p)
    want = multipletests(p, method=STATSMODELS[method])[1]
    got = adjust_p_values(list(p), method)  # type: ignore[arg-type]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_hand_checked_case() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> max-acc
    assert adjust_p_values(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04, 0.04 -> min from the top
    assert adjust_p_values(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_p_values(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert adjust_p_values([0.6, 0.9], "bonferroni") == [1.0, 1.0]
    assert adjust_p_values([], "holm") == []


def test_bad_arguments_raise() -> None:
    with pytest.raises(ConfigError, match="method"):
        adjust_p_values([0.1], "sidak")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="p_values"):
        adjust_p_values([0.1, 1.5], "holm")


family = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30)


@given(family, st.sampled_from(["holm", "bh", "bonferroni"]))
def test_adjusted_p_values_are_valid_and_monotone(p: list[float], method: str) -> None:
    adj = adjust_p_values(p, method)  # type: ignore[arg-type]
    assert all(raw <= a + 1e-15 <= 1.0 + 1e-15 for raw, a in zip(p, adj, strict=True))
    order = np.argsort(p, kind="stable")
    assert all(np.diff(np.asarray(adj)[order]) >= -1e-15)


@given(family)
def test_holm_is_never_more_lenient_than_bh(p: list[float]) -> None:
    holm, bh = adjust_p_values(p, "holm"), adjust_p_values(p, "bh")
    assert all(h >= b - 1e-12 for h, b in zip(holm, bh, strict=True))
