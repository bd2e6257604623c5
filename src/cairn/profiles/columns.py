"""The reference of one column: its bins and counts (numeric) or categories and counts.

:class:`NumericReference` holds the column's :class:`~cairn.profiles.bins.NumericBins`, the
reference rows per bin, the missing rows, summary statistics (the std normalises the
Wasserstein distance) and a sorted bounded sample (KS, Wasserstein, Evidently's PSI).
:class:`CategoricalReference` holds the ``top_k`` categories with their rows, the rows of all
``other`` categories, the missing rows and a sample. Counts are what is stored; shares are
computed from them (``counts / rows``), so the same data always gets the same shares.

Both read every stored form: the current one (``kind``, format version 2), training profiles of
version 1 (``kind``, right-closed bins, categories as a mapping) and quality profiles of version
1 (``type``, left-closed bins, shares without counts: counts are recovered from shares).

Example
-------
>>> import numpy as np
>>> ref = NumericReference.build(np.array([1.0, 2.0, 2.0, np.nan]), bins=10, sample=10, seed=0)
>>> ref.binning.by_value, ref.counts.tolist(), ref.missing_count, ref.shares().tolist()
(True, [1, 2, 0], 1, [0.25, 0.5, 0.0, 0.25])
>>> NumericReference.from_dict(ref.to_dict()).counts.tolist()
[1, 2, 0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cairn.core.errors import DataError
from cairn.profiles.bins import DEFAULT_BINS, NumericBins, numeric_bins

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

MAX_CATEGORIES = 100
"""Categories kept per text column by default; rarer ones count as ``other``."""


@dataclass(frozen=True, eq=False)
class NumericReference:
    """A numeric column (or the score) of the reference."""

    rows: int
    binning: NumericBins
    counts: Ints
    missing_count: int
    sample: Floats
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    dtype: str | None = None
    kind: Literal["numeric"] = "numeric"

    @property
    def edges(self) -> Floats:
        """Where the bins meet (quantile edges and point bounds)."""
        return self.binning.cuts

    @property
    def missing(self) -> float:
        """Share of reference rows that were missing."""
        return self.missing_count / self.rows if self.rows else 0.0

    def shares(self) -> Floats:
        """Shares of all reference rows per bin, then the missing bin (they add up to 1)."""
        return _shares(np.append(self.counts, self.missing_count), self.rows)

    def labels(self) -> list[str]:
        """One label per bin, then ``(missing)``."""
        return [*self.binning.labels(), "(missing)"]

    @classmethod
    def build(
        cls,
        values: npt.ArrayLike,
        *,
        bins: int = DEFAULT_BINS,
        sample: int = 10_000,
        seed: int = 0,
        dtype: str | None = None,
    ) -> NumericReference:
        """Profile one column: bins from :func:`~cairn.profiles.bins.numeric_bins`, then counts
        from exactly those bins, summary statistics over finite values and a sample."""
        x = np.asarray(values, dtype=np.float64)
        present = x[~np.isnan(x)]
        rng = np.random.default_rng(seed)  # drawn in row order, so a seed keeps its sample
        chosen = present if present.size <= sample else rng.choice(present, sample, replace=False)
        chosen = np.sort(chosen)
        present = np.sort(present)
        finite = present[np.isfinite(present)]
        binning = numeric_bins(finite, bins)
        stats = _summary(finite)
        return cls(
            int(x.size), binning, binning.count_sorted(present), int(x.size - present.size),
            chosen, stats["mean"], stats["std"], stats["min"], stats["max"], dtype,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "column") -> NumericReference:
        """Read a stored numeric entry (any format version)."""
        rows = _rows(d, where)
        binning = _binning(d, where)
        counts = _counts(d.get("counts"), d.get("proportions", []), rows, where)
        if counts.size == 0 and binning.size == 1:  # version 1 of a column without values
            counts = np.zeros(1, dtype=np.int64)
        if counts.size != binning.size:
            raise DataError(
                f"{where}: a numeric reference needs one count per bin ({binning.size}); "
                f"got {counts.size}."
            )
        missing = d.get("missing_count")
        if missing is None:
            missing = round(float(d.get("missing", 0.0)) * rows)
        sample = np.sort(np.asarray(d.get("sample", []), dtype=np.float64))
        return cls(
            rows, binning, counts, int(missing), sample[~np.isnan(sample)],
            mean=_opt(d.get("mean")), std=_opt(d.get("std")),
            min=_opt(d.get("min")), max=_opt(d.get("max")), dtype=d.get("dtype"),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The stored form (version 2): bins, counts, shares for people, statistics, sample."""
        shares = self.shares()
        out: dict[str, Any] = {"kind": "numeric", "rows": self.rows}
        if self.dtype is not None:
            out["dtype"] = self.dtype
        out.update(self.binning.to_dict())
        out.update(
            labels=self.binning.labels(),
            counts=self.counts.tolist(),
            missing_count=self.missing_count,
            proportions=[_r(s) for s in shares[:-1]],
            missing=_r(self.missing),
            mean=self.mean,
            std=self.std,
            min=self.min,
            max=self.max,
            sample=self.sample.tolist(),
        )
        return out


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """A categorical column of the reference: its ``top_k`` categories and the rest."""

    rows: int
    categories: tuple[str, ...]
    counts: Ints
    other_count: int
    missing_count: int
    sample: tuple[str, ...]
    distinct: int | None = None
    dtype: str | None = None
    kind: Literal["categorical"] = "categorical"

    @property
    def missing(self) -> float:
        """Share of reference rows that were missing."""
        return self.missing_count / self.rows if self.rows else 0.0

    def shares(self) -> Floats:
        """Shares of all rows per category, then ``other``, then missing (adding up to 1)."""
        return _shares(np.append(self.counts, [self.other_count, self.missing_count]), self.rows)

    def labels(self) -> list[str]:
        """One label per bin: the categories, ``(other)``, ``(missing)``."""
        return [*self.categories, "(other)", "(missing)"]

    @cached_property
    def sample_counts(self) -> tuple[pa.Array, Ints]:
        """The sample's distinct values (Arrow large strings, ascending) and the count of each
        (hashed once per reference, then reused)."""
        counted = pc.value_counts(pa.array(self.sample, type=pa.large_string()))
        order = pc.sort_indices(counted.field("values"))
        keys = counted.field("values").take(order)
        counts = np.asarray(counted.field("counts").take(order).to_numpy(), dtype=np.int64)
        return keys, counts

    @classmethod
    def build(
        cls,
        text: pa.Array | pa.ChunkedArray,
        *,
        top_k: int = MAX_CATEGORIES,
        sample: int = 10_000,
        seed: int = 0,
        dtype: str | None = None,
    ) -> CategoricalReference:
        """Profile one text column (see :func:`cairn.profiles.text_values`): its ``top_k``
        categories by rows (ties by name), the rest as ``other``, and a sample."""
        n = len(text)
        counted = pc.value_counts(text)
        values = counted.field("values").to_pylist()
        counts = counted.field("counts").to_pylist()
        pairs = sorted(
            ((str(v), int(c)) for v, c in zip(values, counts, strict=True) if v is not None),
            key=lambda vc: (-vc[1], vc[0]),
        )
        top = pairs[:top_k]
        present = pc.drop_null(text)
        rng = np.random.default_rng(seed)
        if len(present) <= sample:
            chosen = present.to_pylist()
        else:
            chosen = present.take(pa.array(rng.choice(len(present), sample, replace=False)))
            chosen = chosen.to_pylist()
        return cls(
            n, tuple(c for c, _ in top), np.asarray([k for _, k in top], dtype=np.int64),
            sum(k for _, k in pairs[top_k:]), int(text.null_count),
            tuple(sorted(str(v) for v in chosen)), len(pairs), dtype,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "column") -> CategoricalReference:
        """Read a stored categorical entry (any format version)."""
        rows = _rows(d, where)
        listed = d.get("categories") or []
        if isinstance(listed, Mapping):  # training profiles of version 1: name -> share
            names = tuple(str(k) for k in listed)
            shares: Any = list(listed.values())
        elif isinstance(listed, list):
            names = tuple(str(k) for k in listed)
            shares = d.get("proportions", [])
        else:
            raise DataError(f"{where}: categories must be a list (or map each to its share).")
        counted = d.get("counts")
        if isinstance(counted, Mapping):
            counts = np.asarray([int(counted.get(k, 0)) for k in names], dtype=np.int64)
        else:
            counts = _counts(counted, shares, rows, where)
        if counts.size != len(names):
            raise DataError(f"{where}: {len(names)} categories but {counts.size} counts.")
        other = d.get("other_count")
        if other is None:
            other = round(float(d.get("other", d.get("unseen", 0.0))) * rows)
        missing = d.get("missing_count")
        if missing is None:
            missing = round(float(d.get("missing", 0.0)) * rows)
        return cls(
            rows, names, counts, int(other), int(missing),
            tuple(str(v) for v in d.get("sample", [])),
            None if d.get("distinct") is None else int(d["distinct"]), d.get("dtype"),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The stored form (version 2)."""
        shares = self.shares()
        out: dict[str, Any] = {"kind": "categorical", "rows": self.rows}
        if self.dtype is not None:
            out["dtype"] = self.dtype
        out.update(
            categories=list(self.categories),
            counts=self.counts.tolist(),
            other_count=self.other_count,
            missing_count=self.missing_count,
            proportions=[_r(s) for s in shares[:-2]],
            other=_r(shares[-2]),
            missing=_r(self.missing),
            sample=list(self.sample),
        )
        if self.distinct is not None:
            out["distinct"] = self.distinct
        return out


ColumnReference = NumericReference | CategoricalReference


def column_reference(d: Mapping[str, Any], where: str, rows: int | None = None) -> ColumnReference:
    """Read one stored column by its ``kind`` (or, in quality profiles of version 1, ``type``;
    their columns carry no row count: ``rows`` is the profile's)."""
    if not isinstance(d, Mapping):
        raise DataError(f"{where}: expected an object with a 'kind'; got {type(d).__name__}.")
    kind = d.get("kind", d.get("type"))
    if "rows" not in d and rows is not None:
        d = {**d, "rows": rows}
    if kind == "numeric":
        return NumericReference.from_dict(d, where)
    if kind == "categorical":
        return CategoricalReference.from_dict(d, where)
    raise DataError(f"{where}: kind must be 'numeric' or 'categorical'; got {kind!r}.")


def _binning(d: Mapping[str, Any], where: str) -> NumericBins:
    try:
        edges = np.asarray(d.get("edges", []), dtype=np.float64)
        points = np.asarray(d.get("points", []), dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: edges and points must be lists of numbers.") from None
    if "binning" in d:  # version 2
        kind = d["binning"]
        if kind not in ("quantile", "value"):
            raise DataError(f"{where}: binning must be 'quantile' or 'value'; got {kind!r}.")
        closed = d.get("closed", "left")
        if closed not in ("left", "right"):
            raise DataError(f"{where}: closed must be 'left' or 'right'; got {closed!r}.")
        return NumericBins(edges, points, by_value=kind == "value", closed=closed)
    # version 1: training profiles (`kind`) were right-closed, quality ones (`type`) left-closed
    return NumericBins(edges, closed="right" if "kind" in d else "left")


def _rows(d: Mapping[str, Any], where: str) -> int:
    rows = d.get("rows")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise DataError(f"{where}: 'rows' must be a non-negative integer; got {rows!r}.")
    return rows


def _counts(counts: Any, shares: Any, rows: int, where: str) -> Ints:
    try:
        if counts is not None:
            return np.asarray(counts, dtype=np.int64).reshape(-1)
        return np.rint(np.asarray(shares, dtype=np.float64) * rows).astype(np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{where}: counts and proportions must be lists of numbers.") from None


def _shares(counts: Ints, rows: int) -> Floats:
    out: Floats = counts / rows if rows else np.zeros(counts.size)
    return out


def _summary(finite: Floats) -> dict[str, float | None]:
    if not finite.size:
        return {"mean": None, "std": None, "min": None, "max": None}
    return {
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "min": float(finite[0]),
        "max": float(finite[-1]),
    }


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _r(value: float) -> float:
    return float(round(float(value), 10))
