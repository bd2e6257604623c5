"""Drift of one numeric column (or the score): one sort of the current values serves every metric.

The present values are sorted once; PSI counts come from ``searchsorted`` of the bin edges into
them, KS and Wasserstein share one merged ECDF grid with the reference sample, and Evidently's
PSI bins both samples by Sturges. ±inf count in PSI's outer bins and are left out of KS,
Wasserstein and Evidently's PSI (as Evidently drops them).
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from cairn.monitoring.metrics.chi2 import chi2_two_sample
from cairn.monitoring.metrics.ecdf import ecdf_grid
from cairn.monitoring.metrics.jensen_shannon import js_distance
from cairn.monitoring.metrics.ks import ks_2samp
from cairn.monitoring.metrics.nulls import null_share_test
from cairn.monitoring.metrics.psi import Side, bin_counts, psi
from cairn.monitoring.metrics.psi_evidently import evidently_shares, psi_from_shares
from cairn.monitoring.metrics.wasserstein import wasserstein_distance
from cairn.monitoring.reference import NumericReference
from cairn.monitoring.results import FeatureDrift, unusable


def numeric_drift(
    name: str, ref: NumericReference, values: npt.NDArray[np.float64], side: Side
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
    cur_counts = np.append(bin_counts(present, ref.edges, side=side), n_missing)
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
        psi_ev = psi_from_shares(*evidently_shares(sample, finite))
    return FeatureDrift(
        name, "numeric", "ok", None,
        psi=psi(p, q), psi_evidently=psi_ev, ks_statistic=ks_d, ks_p_value=ks_p,
        js_distance=js_distance(p, q), chi2_statistic=chi2, chi2_p_value=chi2_p,
        wasserstein_norm=w_norm,
        null_p_value=null_share_test(ref.missing_count, ref.rows, n_missing, n),
        p_value=ks_p, labels=numeric_labels(ref.edges, side),
        reference_proportions=p.tolist(), current_proportions=q.tolist(), rows=n,
        null_share_reference=ref.missing, null_share_current=null_cur,
    )  # fmt: skip


def numeric_labels(edges: npt.NDArray[np.float64], side: Side) -> list[str]:
    """Bin labels: ``(a, b]`` for right-closed bins (``side="left"``), ``[a, b)`` otherwise,
    then ``(missing)``."""
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "+inf"]
    pairs = list(itertools.pairwise(bounds))
    if side == "left":
        labels = [f"({a}, {b}]" if b != "+inf" else f"({a}, {b})" for a, b in pairs]
    else:
        labels = [f"[{a}, {b})" if a != "-inf" else f"({a}, {b})" for a, b in pairs]
    return [*labels, "(missing)"]


def _finite(ascending: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The finite values of an ascending array (±inf can only sit at its ends)."""
    if ascending.size == 0 or (np.isfinite(ascending[0]) and np.isfinite(ascending[-1])):
        return ascending
    return ascending[np.isfinite(ascending)]
