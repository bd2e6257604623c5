"""Drift of one categorical column, with memory bounded by distinct values, never by rows.

The current column is hashed once (Arrow ``value_counts``, in C++); every metric is then
computed on the distinct values and their counts: rows per reference category
(``index_in`` against the reference's top-k), the ``other`` bucket (categories outside the
top-k, unseen ones included), the unseen categories (outside the top-k and the sample; the
20 most frequent are named) and Evidently's PSI against the reference sample.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cairn.monitoring.metrics.chi2 import chi2_two_sample
from cairn.monitoring.metrics.jensen_shannon import js_distance
from cairn.monitoring.metrics.nulls import null_share_test
from cairn.monitoring.metrics.psi_evidently import psi_evidently_from_counts
from cairn.monitoring.results import FeatureDrift, unusable
from cairn.profiles import CategoricalReference, psi

MAX_UNSEEN = 20
"""At most this many unseen categories are named (the most frequent first)."""


def categorical_drift(name: str, ref: CategoricalReference, text: pa.Array) -> FeatureDrift:
    """Every metric of one categorical column against its reference (band and gates unset)."""
    n = len(text)
    n_missing = int(text.null_count)
    null_cur = n_missing / n if n else None
    error = unusable(
        name, "categorical", reference_empty=ref.rows == ref.missing_count,
        reference_null_share=ref.missing, rows=n, missing=n_missing,
    )  # fmt: skip
    if error is not None:
        return error
    counted = pc.value_counts(text)
    values = counted.field("values")
    counts = np.asarray(counted.field("counts").to_numpy(), dtype=np.int64)
    keep = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    values, counts = values.filter(pa.array(keep)), counts[keep]
    position = _positions(values, ref.categories)
    known = position >= 0
    per_category = np.bincount(
        position[known], weights=counts[known], minlength=len(ref.categories)
    )
    other = int(counts[~known].sum())
    cur_counts = np.append(per_category.astype(np.int64), [other, n_missing])
    ref_counts = np.append(ref.counts, [ref.other_count, ref.missing_count])
    p, q = ref.shares(), cur_counts / n
    chi2, chi2_p, _ = chi2_two_sample(ref_counts, cur_counts)
    sample_keys, sample_counts = ref.sample_counts
    in_sample = _positions(values, sample_keys)
    unseen = _top_unseen(values, counts, ~known & (in_sample < 0))
    return FeatureDrift(
        name, "categorical", "ok", None,
        psi=psi(p, q), psi_evidently=_psi_evidently(counts, in_sample, sample_counts),
        js_distance=js_distance(p, q), chi2_statistic=chi2, chi2_p_value=chi2_p,
        null_share_reference=ref.missing, null_share_current=null_cur,
        null_p_value=null_share_test(ref.missing_count, ref.rows, n_missing, n),
        unseen_categories=unseen, unseen_share=other / n, rows=n, p_value=chi2_p,
        labels=ref.labels(),
        reference_proportions=p.tolist(), current_proportions=q.tolist(),
    )  # fmt: skip


def _positions(values: pa.Array, keys: tuple[str, ...] | pa.Array) -> npt.NDArray[np.int64]:
    """Index of each distinct value among ``keys`` (-1 when absent)."""
    if not len(keys):
        return np.full(len(values), -1, dtype=np.int64)
    wanted = keys if isinstance(keys, pa.Array) else pa.array(keys)
    found = pc.index_in(values, value_set=wanted.cast(values.type))
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _top_unseen(
    values: pa.Array, counts: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]
) -> list[str]:
    which = np.flatnonzero(mask)
    if which.size > MAX_UNSEEN:  # every value tied with the 20th, so ties go by name
        least = np.partition(counts[which], which.size - MAX_UNSEEN)[which.size - MAX_UNSEEN]
        which = which[counts[which] >= least]
    names = values.take(pa.array(which)).to_pylist()
    order = sorted(range(len(which)), key=lambda i: (-int(counts[which[i]]), str(names[i])))
    return [str(names[i]) for i in order[:MAX_UNSEEN]]


def _psi_evidently(
    counts: npt.NDArray[np.int64],
    in_sample: npt.NDArray[np.int64],
    sample_counts: npt.NDArray[np.int64],
) -> float | None:
    """Evidently's PSI over the union of current and sample categories (missing dropped)."""
    if sample_counts.size == 0:
        return None
    ref_on_current = np.zeros(counts.size, dtype=np.int64)
    hit = in_sample >= 0
    ref_on_current[hit] = sample_counts[in_sample[hit]]
    only_sample = np.ones(sample_counts.size, dtype=bool)
    only_sample[in_sample[hit]] = False
    ref = np.concatenate((ref_on_current, sample_counts[only_sample]))
    cur = np.concatenate((counts, np.zeros(int(only_sample.sum()), dtype=np.int64)))
    return psi_evidently_from_counts(ref, cur)
