"""The drift benchmark's plain numpy/scipy contender: a loop over columns, the same metrics.

What someone would write with numpy, pandas and scipy next to a stored reference profile (its
bins, counts and samples), computing every number ``compute_drift`` reports:

* numeric columns: PSI over the profile's bins (``np.searchsorted`` into the stored cuts, then
  ``np.bincount``), ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` against
  the reference sample, ``scipy.stats.chi2_contingency``, ``scipy.spatial.distance.jensenshannon``,
  Evidently's PSI (``np.histogram`` on Sturges bins) and the missing-share z-test;
* categorical columns: ``Series.value_counts`` once, reindexed on the profile's categories,
  and the same tests; unseen categories by set difference;
* Benjamini–Hochberg over the p-values: ``scipy.stats.false_discovery_control``.

:func:`same_numbers` checks the loop against a :class:`~cairn.monitoring.DriftReport` before
anything is timed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats
from scipy.spatial.distance import jensenshannon

EPS = 1e-4
FIELDS = ("psi", "psi_evidently", "ks_statistic", "ks_p_value", "js_distance", "chi2_statistic",
          "chi2_p_value", "wasserstein_norm", "null_p_value", "unseen_share",
          "p_value_adjusted")  # fmt: skip


def numpy_drift(profile: Any, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Every metric of every profiled column of ``frame`` (a pandas frame), by column."""
    out: dict[str, dict[str, Any]] = {}
    for name, ref in profile.features.items():
        if ref.kind == "numeric":
            values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            out[name] = _numeric(ref, values)
        else:
            out[name] = _categorical(ref, frame[name])
    names = [n for n in out if out[n]["p_value"] is not None]
    if names:
        ps = np.array([out[n]["p_value"] for n in names])
        for n, p in zip(names, scipy.stats.false_discovery_control(ps, method="bh"), strict=True):
            out[n]["p_value_adjusted"] = float(p)
    return out


def _numeric(ref: Any, x: np.ndarray) -> dict[str, Any]:
    n = x.size
    missing = np.isnan(x)
    n_missing = int(missing.sum())
    present = x[~missing]
    bins = ref.binning
    if bins.by_value:
        at = np.searchsorted(bins.points, present)
        hit = at < bins.points.size
        hit[hit] = bins.points[at[hit]] == present[hit]
        counts = np.append(np.bincount(at[hit], minlength=bins.points.size), (~hit).sum())
    else:
        upper = np.nextafter(bins.points, np.inf)
        cuts = np.unique(np.concatenate((bins.edges, bins.points, upper)))
        counts = np.bincount(np.searchsorted(cuts, present, side="right"), minlength=cuts.size + 1)
    cur = np.append(counts, n_missing)
    out = _shared(np.append(ref.counts, ref.missing_count), cur, ref.rows, n)
    finite, sample = present[np.isfinite(present)], ref.sample[np.isfinite(ref.sample)]
    ks = scipy.stats.ks_2samp(sample, finite)
    out.update(ks_statistic=float(ks.statistic), ks_p_value=float(ks.pvalue),
               p_value=float(ks.pvalue), unseen_share=None, unseen=[])  # fmt: skip
    w = scipy.stats.wasserstein_distance(sample, finite)
    out["wasserstein_norm"] = w / ref.std if ref.std else None
    if np.unique(sample).size > 20:
        edges = np.histogram_bin_edges(np.concatenate((sample, finite)), bins="sturges")
        r, c = np.histogram(sample, edges)[0], np.histogram(finite, edges)[0]
    else:
        keys, inverse = np.unique(np.concatenate((sample, finite)), return_inverse=True)
        r = np.bincount(inverse[: sample.size], minlength=keys.size)
        c = np.bincount(inverse[sample.size :], minlength=keys.size)
    out["psi_evidently"] = _psi_evidently(r / sample.size, c / finite.size)
    return out


def _categorical(ref: Any, series: pd.Series) -> dict[str, Any]:
    n = len(series)
    n_missing = int(series.isna().sum())
    counted = series.value_counts(dropna=True)
    counted.index = counted.index.astype(str)
    per_category = counted.reindex(list(ref.categories), fill_value=0).to_numpy()
    other = n - n_missing - int(per_category.sum())
    cur = np.append(per_category, [other, n_missing])
    ref_all = np.append(ref.counts, [ref.other_count, ref.missing_count])
    out = _shared(ref_all, cur, ref.rows, n)
    sample = pd.Series(ref.sample, dtype=object).value_counts()
    union = counted.index.union(sample.index)
    r = sample.reindex(union, fill_value=0).to_numpy(dtype=np.float64)
    c = counted.reindex(union, fill_value=0).to_numpy(dtype=np.float64)
    out["psi_evidently"] = _psi_evidently(r / r.sum(), c / c.sum()) if r.sum() else None
    known = set(ref.categories) | set(sample.index)
    unseen = sorted(((v, int(k)) for v, k in counted.items() if v not in known),
                    key=lambda vc: (-vc[1], vc[0]))  # fmt: skip
    out.update(ks_statistic=None, ks_p_value=None, wasserstein_norm=None,
               p_value=out["chi2_p_value"], unseen_share=other / n,
               unseen=[v for v, _ in unseen[:20]])  # fmt: skip
    return out


def _shared(ref: np.ndarray, cur: np.ndarray, ref_rows: int, n: int) -> dict[str, Any]:
    p, q = ref / ref_rows, cur / n
    pf, qf = np.maximum(p, EPS), np.maximum(q, EPS)
    keep = (ref + cur) > 0
    table = np.vstack((ref[keep], cur[keep]))
    chi2 = p_chi2 = None
    if keep.sum() > 1:
        chi2, p_chi2 = (float(v) for v in scipy.stats.chi2_contingency(table, correction=False)[:2])
    else:
        chi2 = 0.0
    return {
        "psi": float(np.sum((qf - pf) * np.log(qf / pf))),
        "js_distance": float(jensenshannon(p, q, base=2)),
        "chi2_statistic": chi2,
        "chi2_p_value": p_chi2,
        "null_p_value": _null_test(int(ref[-1]), ref_rows, int(cur[-1]), n),
        "current_proportions": q,
        "p_value_adjusted": None,
    }


def _null_test(ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int) -> float:
    pooled = (ref_missing + cur_missing) / (ref_rows + cur_rows)
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0
    diff = cur_missing / cur_rows - ref_missing / ref_rows
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / ref_rows + 1.0 / cur_rows))
    return float(2.0 * scipy.stats.norm.sf(abs(diff) / se))


def _psi_evidently(ref: np.ndarray, cur: np.ndarray) -> float:
    def fill(s: np.ndarray) -> np.ndarray:
        smallest = float(s[s != 0].min())
        return np.where(s == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001, s)

    p, q = fill(ref), fill(cur)
    return float(np.sum((p - q) * np.log(p / q)))


def same_numbers(loop: dict[str, dict[str, Any]], report: Any, rel: float = 1e-9) -> int:
    """Assert the loop's numbers equal the report's (to ``rel``); the count of numbers checked."""
    checked = 0
    for f in report.features:
        mine = loop[f.feature]
        for key in FIELDS:
            a, b = getattr(f, key), mine[key]
            assert (a is None) == (b is None), f"{f.feature}.{key}: cairn {a}, numpy {b}"
            if a is not None:
                assert math.isclose(a, b, rel_tol=rel, abs_tol=1e-12), (
                    f"{f.feature}.{key}: cairn {a!r}, numpy {b!r}"
                )
                checked += 1
        assert np.allclose(f.current_proportions, mine["current_proportions"], rtol=0, atol=1e-15)
        assert list(f.unseen_categories) == mine["unseen"], f"{f.feature}: unseen categories"
        checked += len(f.current_proportions) + 1
    return checked
