"""The reference of one column inside a profile: bins and counts, or categories and counts.

:class:`NumericReference` holds the quantile edges, the rows per bin, the missing rows, summary
statistics (the std normalises the Wasserstein distance) and a sorted bounded sample (for KS,
Wasserstein and Evidently's PSI). :class:`CategoricalReference` holds the ``top_k`` categories
with their rows, the rows of all ``other`` categories, the missing rows and a sample. Both read
and write the training profile's per-feature JSON (:mod:`cairn.training.profile`); counts
missing from an older profile are recovered from its shares and row count.

Example
-------
>>> ref = NumericReference.from_dict({"kind": "numeric", "rows": 4, "missing": 0.25,
...     "edges": [2.0], "proportions": [0.5, 0.25], "sample": [3.0, 1.0, 2.0], "std": 0.8})
>>> ref.counts.tolist(), ref.missing_count, ref.sample.tolist()
([2, 1], 1, [1.0, 2.0, 3.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cairn.core.errors import DataError

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class NumericReference:
    """A numeric column (or the score) of the reference."""

    rows: int
    edges: Floats
    counts: Ints
    missing_count: int
    sample: Floats
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    kind: Literal["numeric"] = "numeric"

    @property
    def missing(self) -> float:
        """Share of reference rows that were missing."""
        return self.missing_count / self.rows if self.rows else 0.0

    def shares(self) -> Floats:
        """Shares of all reference rows per bin, then the missing bin (they add up to 1)."""
        return _shares(np.append(self.counts, self.missing_count), self.rows)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "feature") -> NumericReference:
        """Read a training profile's numeric entry."""
        rows = _rows(d, where)
        edges = np.asarray(d.get("edges", []), dtype=np.float64)
        counts = _counts(d.get("counts"), d.get("proportions", []), rows, where)
        if counts.size != edges.size + 1 and not (edges.size == 0 and counts.size == 0):
            raise DataError(
                f"{where}: a numeric reference needs one count per bin ({edges.size + 1} for "
                f"{edges.size} edges); got {counts.size}."
            )
        missing = d.get("missing_count")
        if missing is None:
            missing = round(float(d.get("missing", 0.0)) * rows)
        sample = np.sort(np.asarray(d.get("sample", []), dtype=np.float64))
        return cls(
            rows, edges, counts, int(missing), sample[~np.isnan(sample)],
            mean=_opt(d.get("mean")), std=_opt(d.get("std")),
            min=_opt(d.get("min")), max=_opt(d.get("max")),
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The training profile's numeric entry, with counts."""
        shares = self.shares()
        return {
            "kind": "numeric",
            "rows": self.rows,
            "missing": _r(self.missing),
            "edges": self.edges.tolist(),
            "proportions": [_r(x) for x in shares[:-1]],
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "sample": self.sample.tolist(),
            "counts": self.counts.tolist(),
            "missing_count": self.missing_count,
        }


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
    kind: Literal["categorical"] = "categorical"

    @property
    def missing(self) -> float:
        """Share of reference rows that were missing."""
        return self.missing_count / self.rows if self.rows else 0.0

    def shares(self) -> Floats:
        """Shares of all rows per category, then ``other``, then missing (adding up to 1)."""
        return _shares(np.append(self.counts, [self.other_count, self.missing_count]), self.rows)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "feature") -> CategoricalReference:
        """Read a training profile's categorical entry (``categories``: name -> share)."""
        rows = _rows(d, where)
        shares = d.get("categories") or {}
        if not isinstance(shares, Mapping):
            raise DataError(f"{where}: categories must map each category to its share.")
        names = tuple(str(k) for k in shares)
        counted = d.get("counts")
        if isinstance(counted, Mapping):
            counts = np.asarray([int(counted.get(k, 0)) for k in names], dtype=np.int64)
        else:
            counts = _counts(None, list(shares.values()), rows, where)
        other = d.get("other_count")
        missing = d.get("missing_count")
        return cls(
            rows,
            names,
            counts,
            int(other if other is not None else round(float(d.get("other", 0.0)) * rows)),
            int(missing if missing is not None else round(float(d.get("missing", 0.0)) * rows)),
            tuple(str(v) for v in d.get("sample", [])),
            None if d.get("distinct") is None else int(d["distinct"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The training profile's categorical entry, with counts."""
        shares = self.shares()
        out: dict[str, Any] = {
            "kind": "categorical",
            "rows": self.rows,
            "missing": _r(self.missing),
            "categories": {c: _r(s) for c, s in zip(self.categories, shares, strict=False)},
            "other": _r(shares[-2]),
            "sample": list(self.sample),
            "counts": {c: int(n) for c, n in zip(self.categories, self.counts, strict=True)},
            "other_count": self.other_count,
            "missing_count": self.missing_count,
        }
        if self.distinct is not None:
            out["distinct"] = self.distinct
        return out


ColumnReference = NumericReference | CategoricalReference


def column_reference(d: Mapping[str, Any], where: str) -> ColumnReference:
    """Read one entry of a profile's ``features`` by its ``kind``."""
    if not isinstance(d, Mapping):
        raise DataError(f"{where}: expected an object with a 'kind'; got {type(d).__name__}.")
    kind = d.get("kind")
    if kind == "numeric":
        return NumericReference.from_dict(d, where)
    if kind == "categorical":
        return CategoricalReference.from_dict(d, where)
    raise DataError(f"{where}: kind must be 'numeric' or 'categorical'; got {kind!r}.")


def _rows(d: Mapping[str, Any], where: str) -> int:
    rows = d.get("rows")
    if not isinstance(rows, int) or rows < 0:
        raise DataError(f"{where}: 'rows' must be a non-negative integer; got {rows!r}.")
    return rows


def _counts(counts: Any, shares: Any, rows: int, where: str) -> Ints:
    if counts is not None:
        return np.asarray(counts, dtype=np.int64)
    try:
        return np.rint(np.asarray(shares, dtype=np.float64) * rows).astype(np.int64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: proportions must be a list of numbers.") from None


def _shares(counts: Ints, rows: int) -> Floats:
    out: Floats = counts / rows if rows else np.zeros(counts.size)
    return out


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _r(value: float) -> float:
    return float(round(float(value), 10))
