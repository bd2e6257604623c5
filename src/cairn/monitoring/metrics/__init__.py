"""Drift metrics, one per file, each a pure numpy function of counts, shares or sorted values.

* :func:`psi` — Population Stability Index over a reference profile's bins with a missing bin
  and an unseen-category bin, one symmetric epsilon (DESIGN §3.5; :func:`cairn.profiles.psi`,
  the one function quality, training and monitoring use);
* :func:`psi_evidently` — Evidently's PSI (Sturges bins over both samples, asymmetric
  empty-bin rule), so users can reconcile numbers with Evidently reports;
* :func:`ks_2samp` — two-sample Kolmogorov–Smirnov, equal to ``scipy.stats.ks_2samp`` (samples
  in any order);
* :func:`js_distance` — Jensen–Shannon distance (base 2) over bins;
* :func:`chi2_two_sample` — χ² test of homogeneity on a 2 × k contingency table (two samples,
  not goodness of fit against the reference taken as exact);
* :func:`wasserstein_distance` — 1-D Wasserstein distance (divide by the reference std);
* :func:`null_share_test` — two-proportion z-test of the missing share.

Example
-------
>>> import numpy as np
>>> round(js_distance([0.5, 0.5], [0.5, 0.5]), 6), round(psi([0.5, 0.5], [0.4, 0.6]), 6)
(0.0, 0.040547)
"""

from __future__ import annotations

from cairn.monitoring.metrics.chi2 import chi2_two_sample
from cairn.monitoring.metrics.ecdf import EcdfGrid, ascending, ecdf_grid
from cairn.monitoring.metrics.jensen_shannon import js_distance
from cairn.monitoring.metrics.ks import ks_2samp
from cairn.monitoring.metrics.nulls import null_share_test
from cairn.monitoring.metrics.psi import EPSILON, band, bin_counts, psi
from cairn.monitoring.metrics.psi_evidently import (
    evidently_shares,
    evidently_shares_sorted,
    psi_evidently,
    psi_evidently_from_counts,
    psi_from_shares,
)
from cairn.monitoring.metrics.wasserstein import wasserstein_distance

__all__ = [
    "EPSILON",
    "EcdfGrid",
    "ascending",
    "band",
    "bin_counts",
    "chi2_two_sample",
    "ecdf_grid",
    "evidently_shares",
    "evidently_shares_sorted",
    "js_distance",
    "ks_2samp",
    "null_share_test",
    "psi",
    "psi_evidently",
    "psi_evidently_from_counts",
    "psi_from_shares",
    "wasserstein_distance",
]
