"""The fast paths of compute_drift (issue 17, item 7) give the numbers of the slow, plain ones.

Each shortcut is checked against its definition: the linear-time ECDF grid against
``searchsorted``, Evidently's bins read from sorted values against ``numpy.histogram`` and
``numpy.unique``, the cached sample counts against ``numpy.unique``, the direct Arrow read of
Python strings against pandas' ``astype("string")``; and a whole report against scipy on the
unsorted columns. No timing is asserted (see ``benchmarks/drift.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import jensenshannon

from cairn.monitoring import ReferenceProfile, compute_drift
from cairn.monitoring._categorical import MAX_UNSEEN
from cairn.monitoring.metrics import (
    ecdf_grid,
    evidently_shares,
    evidently_shares_sorted,
    ks_2samp,
    wasserstein_distance,
)
from cairn.profiles import CategoricalReference, NumericReference, text_values

FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
TIED = st.sampled_from([-2.0, -0.5, -0.0, 0.0, 1.0, 3.5])
SAMPLE = st.one_of(
    arrays(np.float64, st.integers(1, 200), elements=FINITE),
    arrays(np.float64, st.integers(1, 200), elements=TIED),
    arrays(np.float64, st.integers(1, 200), elements=st.integers(-30, 30).map(float)),
)


@settings(max_examples=200, deadline=None)
@given(u=SAMPLE, v=SAMPLE)
def test_ecdf_grid_equals_searchsorted_at_every_distinct_value(
    u: np.ndarray, v: np.ndarray
) -> None:
    a, b = np.sort(u), np.sort(v)
    g = ecdf_grid(a, b)
    distinct = np.unique(np.concatenate((a, b)))
    assert g.values.tolist() == distinct.tolist()
    assert (g.cdf_u == np.searchsorted(a, distinct, side="right") / a.size).all()
    assert (g.cdf_v == np.searchsorted(b, distinct, side="right") / b.size).all()
    assert g.cdf_u[-1] == g.cdf_v[-1] == 1.0


@settings(max_examples=200, deadline=None)
@given(u=SAMPLE, v=SAMPLE)
def test_ks_and_wasserstein_from_the_grid_equal_scipy(u: np.ndarray, v: np.ndarray) -> None:
    a, b = np.sort(u), np.sort(v)
    g = ecdf_grid(a, b)
    if min(a.size, b.size) > 1:  # scipy's asymptotic p divides by zero for 1 against 1
        expected = scipy.stats.ks_2samp(u, v, method="asymp")
        assert ks_2samp(a, b, method="asymp", grid=g) == (expected.statistic, expected.pvalue)
    assert wasserstein_distance(a, b, grid=g) == pytest.approx(
        scipy.stats.wasserstein_distance(u, v), rel=1e-12, abs=1e-12
    )


@settings(max_examples=200, deadline=None)
@given(u=SAMPLE, v=SAMPLE)
def test_evidently_shares_from_sorted_values_equal_histogram_and_unique(
    u: np.ndarray, v: np.ndarray
) -> None:
    fast = evidently_shares_sorted(np.sort(u), np.sort(v))
    slow = evidently_shares(u, v)  # np.histogram (Sturges) or np.unique on unsorted input
    assert [s.tolist() for s in fast] == [s.tolist() for s in slow]


def test_evidently_shares_sorted_needs_values_on_both_sides() -> None:
    with pytest.raises(ValueError, match="present values on both sides"):
        evidently_shares_sorted(np.array([1.0]), np.empty(0))


@settings(max_examples=100, deadline=None)
@given(sample=st.lists(st.sampled_from(["b", "a", "é", "", "zz", "A"]), max_size=60))
def test_sample_counts_equal_numpy_unique(sample: list[str]) -> None:
    ref = CategoricalReference(
        len(sample), (), np.empty(0, dtype=np.int64), len(sample), 0, tuple(sample)
    )
    keys, counts = ref.sample_counts
    expected_keys, expected_counts = np.unique(np.asarray(sample, dtype=object), return_counts=True)
    assert keys.to_pylist() == [str(k) for k in expected_keys]
    assert counts.tolist() == expected_counts.tolist()
    assert ref.sample_counts[0] is keys  # computed once per reference


def test_python_strings_read_as_pandas_astype_string_reads_them() -> None:
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None, "b", np.nan, "", "é", pd.NA], dtype=object),
            "mixed": pd.Series(["a", 1, None, 2.5], dtype=object).reindex(range(7)),
            "ints": pd.Series([1, 2, None, 3, 4, 5, 6], dtype="Int64"),
        }
    )
    for name in frame.columns:
        expected = pa.array(frame[name].astype("string"), type=pa.large_string())
        assert text_values(frame, name).equals(expected), name


def test_unseen_categories_tied_at_the_cut_go_by_name(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    reference = pd.DataFrame({"city": rng.choice(["a", "b"], 1000)})
    profile = ReferenceProfile.build(reference, categorical={"city"})
    new = [f"new{i:02d}" for i in range(40)]
    current = pd.DataFrame({"city": rng.permutation(["a"] * 500 + ["top"] * 9 + new * 3)})
    unseen = compute_drift(profile, current, score_column=None).feature("city").unseen_categories
    assert unseen == ["top", *sorted(new)[: MAX_UNSEEN - 1]]


def test_a_report_equals_scipy_on_the_unsorted_columns(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    n = 30_000

    def frame(shift: float) -> pd.DataFrame:
        x = np.round(rng.normal(shift, 1, n), 2)  # ties
        x[rng.random(n) < 0.03] = np.nan
        return pd.DataFrame(
            {
                "x": x,
                "k": rng.integers(0, 8, n).astype(float),  # value bins
                "c": rng.choice(["u", "v", "w"], n, p=[0.5, 0.3, 0.2]).astype(object),
            }
        )

    reference, current = frame(0.0), frame(0.05)
    profile = ReferenceProfile.build(reference, categorical={"c"}, sample=12_000)
    report = compute_drift(profile, current, score_column=None, correction=None)
    for name in ("x", "k"):
        f, ref = report.feature(name), profile.features[name]
        assert isinstance(ref, NumericReference) and ref.std
        values = current[name].to_numpy()
        present = values[~np.isnan(values)]
        ks = scipy.stats.ks_2samp(ref.sample, present)
        assert (f.ks_statistic, f.ks_p_value) == (ks.statistic, ks.pvalue)
        w = scipy.stats.wasserstein_distance(ref.sample, present) / ref.std
        assert f.wasserstein_norm == pytest.approx(w, rel=1e-12)
    for name in ("x", "k", "c"):
        f, ref = report.feature(name), profile.features[name]
        p, q = np.asarray(f.reference_proportions), np.asarray(f.current_proportions)
        table = np.vstack((p * ref.rows, q * n))
        table = np.rint(table[:, table.sum(axis=0) > 0])
        chi2 = scipy.stats.chi2_contingency(table, correction=False)
        assert f.chi2_statistic == pytest.approx(chi2.statistic, rel=1e-12)
        assert f.chi2_p_value == pytest.approx(chi2.pvalue, rel=1e-9, abs=1e-300)
        assert f.js_distance == pytest.approx(float(jensenshannon(p, q, base=2)), abs=1e-12)
