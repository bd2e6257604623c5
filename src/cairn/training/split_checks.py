"""Warnings when the time-ordered parts differ: label rates and feature distributions.

A model validated on rows whose default rate is three times the training rows' (6.5 % vs
20.2 %) is judged on another population; the run says so. Label rates of every pair of parts
are compared by their ratio and a two-proportion z-test (both must agree, so tiny parts do not
warn on noise); each feature's distribution in a later part is compared with the training rows
by PSI from :mod:`cairn.profiles` (the same bins and formula monitoring uses).

Example
-------
>>> import numpy as np, pandas as pd
>>> from cairn.training.config import SplitWarnings
>>> from cairn.training.split import time_split
>>> rng = np.random.default_rng(0)
>>> n = 4000
>>> frame = pd.DataFrame({
...     "event_timestamp": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
...     "y": np.r_[rng.random(n // 2) < 0.065, rng.random(n // 2) < 0.202].astype(int),
...     "x": rng.normal(size=n)})
>>> split = time_split(frame["event_timestamp"], 0.5)
>>> [w.kind for w in split_warnings(frame, "y", ["x"], split, SplitWarnings())]
['label_rate']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from cairn.profiles import NumericReference, psi
from cairn.profiles.shares import two_proportion_p
from cairn.training.config import SplitWarnings
from cairn.training.split import Indices, TimeSplit


@dataclass(frozen=True)
class SplitWarning:
    """One difference between two parts: ``kind`` ``label_rate`` (``value`` the ratio of the
    rates) or ``feature_psi`` (``value`` the PSI), for ``subject`` (the label or a feature)."""

    kind: str
    parts: tuple[str, str]
    subject: str
    value: float
    message: str
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "parts": list(self.parts)}


def split_warnings(
    frame: pd.DataFrame,
    label: str,
    features: Sequence[str],
    split: TimeSplit,
    settings: SplitWarnings,
) -> list[SplitWarning]:
    """Label-rate warnings for every pair of parts, then feature PSI warnings for each later
    part against the training rows."""
    parts = split.parts()
    out = [
        w
        for (a, rows_a), (b, rows_b) in combinations(parts.items(), 2)
        if (w := label_rate_warning(frame[label], label, (a, rows_a), (b, rows_b), settings))
    ]
    for name in features:
        column = frame[name]
        reference = column.iloc[parts["train"]]
        for part, rows in parts.items():
            if part == "train":
                continue
            value = feature_psi(reference, column.iloc[rows])
            if value >= settings.feature_psi:
                out.append(
                    SplitWarning(
                        "feature_psi",
                        ("train", part),
                        name,
                        value,
                        f"feature {name!r}: PSI {value:.3f} between the train and {part} rows "
                        f"(warn at {settings.feature_psi:g})",
                    )
                )
    return out


def label_rate_warning(
    y: pd.Series,
    label: str,
    first: tuple[str, Indices],
    second: tuple[str, Indices],
    settings: SplitWarnings,
) -> SplitWarning | None:
    """A warning when the label rates of two parts differ by ``settings.label_rate_ratio`` or
    more and a two-proportion z-test gives p below ``settings.label_rate_p``."""
    (a, rows_a), (b, rows_b) = first, second
    n1, n2 = len(rows_a), len(rows_b)
    k1, k2 = int(y.iloc[rows_a].sum()), int(y.iloc[rows_b].sum())
    r1, r2 = k1 / n1, k2 / n2
    low, high = min(r1, r2), max(r1, r2)
    ratio = math.inf if low == 0 and high > 0 else (high / low if low else 1.0)
    p_value = two_proportion_p(k1, n1, k2, n2)
    if ratio < settings.label_rate_ratio or p_value >= settings.label_rate_p:
        return None
    return SplitWarning(
        "label_rate",
        (a, b),
        label,
        ratio,
        f"label {label!r}: rate {r1:.1%} in the {a} rows ({n1:,}) vs {r2:.1%} in the {b} rows "
        f"({n2:,}), ratio {ratio:.2f}, two-proportion z-test p = {p_value:.2g} (warn at ratio "
        f"{settings.label_rate_ratio:g} and p < {settings.label_rate_p:g})",
        p_value,
    )


def feature_psi(reference: pd.Series, current: pd.Series) -> float:
    """PSI of ``current`` against ``reference``: numeric columns over the reference's bins
    (:class:`cairn.profiles.NumericReference`), others over its values, missing as a bin."""
    if pd.api.types.is_numeric_dtype(reference) and not pd.api.types.is_bool_dtype(reference):
        ref = NumericReference.build(reference.to_numpy(dtype=np.float64), sample=0)
        cur = current.to_numpy(dtype=np.float64)
        present = cur[~np.isnan(cur)]
        counts = np.append(ref.binning.count(present), len(cur) - len(present))
        return psi(ref.shares(), counts / max(len(cur), 1))
    ref_text, cur_text = _text(reference), _text(current)
    levels = sorted(set(ref_text.dropna()))
    p = _value_shares(ref_text, levels)
    q = _value_shares(cur_text, levels)
    return psi(p, q)


def _text(column: pd.Series) -> pd.Series:
    return (
        column.astype("object")
        .where(column.notna())
        .map(lambda v: v if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    )


def _value_shares(text: pd.Series, levels: list[str]) -> np.ndarray:
    n = max(len(text), 1)
    counts = text.value_counts(dropna=True)
    known = np.array([counts.get(level, 0) for level in levels], dtype=np.float64)
    missing = float(text.isna().sum())
    other = len(text) - known.sum() - missing
    return np.append(known, [other, missing]) / n
