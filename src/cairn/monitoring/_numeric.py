"""Drift of one numeric column (or the score): one sort of the current values serves every metric.

The present values are sorted once; PSI counts come from ``searchsorted`` of the profile's bin
cuts into them (:meth:`cairn.profiles.NumericBins.count_sorted`: the same bins quality counts in
SQL), KS and Wasserstein share one merged ECDF grid with the reference sample, and Evidently's
PSI bins both samples by Sturges. ±inf count in PSI's outer (or ``other``) bins and are left out
of KS, Wasserstein and Evidently's PSI (as Evidently drops them).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cairn.monitoring.metrics.chi2 import chi2_two_sample
from cairn.monitoring.metrics.ecdf import ecdf_grid
from cairn.monitoring.metrics.jensen_shannon import js_distance
from cairn.monitoring.metrics.ks import ks_2samp
from cairn.monitoring.metrics.nulls import null_share_test
from cairn.monitoring.metrics.psi_evidently import evidently_shares_sorted, psi_from_shares
from cairn.monitoring.metrics.wasserstein import wasserstein_distance
from cairn.monitoring.results import FeatureDrift, unusable
from cairn.profiles import NumericReference, psi


def numeric_drift(
    name: str, ref: NumericReference, values: npt.NDArray[np.float64]
) -> FeatureDrift:
    """Every metric of one numeric column against its reference (band and gates unset)."""
    n = int(values.size)
    missing = np.isnan(values)
    n_missing = int(missing.sum())
    null_cur = n_missing / n if n else None
    error = unusable(
        name, "numeric", reference_empty=ref.counts.size == 0 or ref.rows == ref.missing_count,
        reference_null_share=ref.missing, rows=n, missing=n_missing,
    )  # fmt: skip
    if error is not None:
        return error
    present = values[~missing] if n_missing else values.copy()
    present.sort()
    cur_counts = np.append(ref.binning.count_sorted(present), n_missing)
    ref_counts = np.append(ref.counts, ref.missing_count)
    p, q = ref.shares(), cur_counts / n
    chi2, chi2_p, _ = chi2_two_sample(ref_counts, cur_counts)
    finite = _finite(present)
    sample = _finite(ref.sample)
    ks_d = ks_p = w_norm = psi_ev = None
    if finite.size and sample.size:
        grid = ecdf_grid(sample, finite)
        ks_d, ks_p = ks_2samp(sample, finite, grid=grid)
        if ref.std:
            w_norm = wasserstein_distance(sample, finite, grid=grid) / ref.std
        psi_ev = psi_from_shares(*evidently_shares_sorted(sample, finite))
    return FeatureDrift(
        name, "numeric", "ok", None,
        psi=psi(p, q), psi_evidently=psi_ev, ks_statistic=ks_d, ks_p_value=ks_p,
        js_distance=js_distance(p, q), chi2_statistic=chi2, chi2_p_value=chi2_p,
        wasserstein_norm=w_norm,
        null_p_value=null_share_test(ref.missing_count, ref.rows, n_missing, n),
        p_value=ks_p, labels=ref.labels(),
        reference_proportions=p.tolist(), current_proportions=q.tolist(), rows=n,
        null_share_reference=ref.missing, null_share_current=null_cur,
    )  # fmt: skip


def _finite(ascending: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The finite values of an ascending array (±inf can only sit at its ends)."""
    if ascending.size == 0 or (np.isfinite(ascending[0]) and np.isfinite(ascending[-1])):
        return ascending
    return ascending[np.isfinite(ascending)]
