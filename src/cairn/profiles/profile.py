"""A reference profile: every column's bins and counts, the score's, and the label rate.

:meth:`ReferenceProfile.build` is the one builder (training logs its result as the model
version's ``reference_profile.json``; quality suites' ``profile_reference`` and monitoring's
segment references call it too), :meth:`~ReferenceProfile.to_dict` writes the one stored format
and :meth:`~ReferenceProfile.from_dict` reads it and every older one::

    {"format": "cairn.reference_profile", "version": 2, "rows": 4454, "bins": 10,
     "epsilon": 0.0001,
     "columns": {
       "amount": {"kind": "numeric", "rows": 4454, "binning": "quantile", "closed": "left",
                  "edges": [...], "points": [...], "labels": [...], "counts": [...],
                  "missing_count": 0, "proportions": [...], "missing": 0.0,
                  "mean": …, "std": …, "min": …, "max": …, "sample": [...]},
       "term":   {"kind": "numeric", "binning": "value", "points": [12, 24, 36], ...},
       "home":   {"kind": "categorical", "categories": [...], "counts": [...],
                  "other_count": 0, "missing_count": 7, "distinct": 4, "sample": [...], ...}},
     "score": {"kind": "numeric", ...},
     "label": {"column": "defaulted", "positive_value": 1, "rate": 0.2815, "count": 4454}}

Older forms still read: training profiles of version 1 (``features``, right-closed bins) and
quality profiles of version 1 (``format`` + ``columns`` with ``type``, left-closed bins).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({"income": rng.normal(3000, 500, 1000), "flag": rng.random(1000) < 0.9,
...                       "job": rng.choice(["fixed", "temp"], 1000), "score": rng.random(1000)})
>>> p = ReferenceProfile.build(frame, categorical={"job"}, score_column="score", sample=200)
>>> p.kinds()
{'income': 'numeric', 'flag': 'categorical', 'job': 'categorical'}
>>> len(p.features["income"].binning.edges), p.features["flag"].categories
(9, ('true', 'false'))
>>> ReferenceProfile.from_dict(p.to_dict()).to_dict() == p.to_dict()
True
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from cairn.core.errors import DataError
from cairn.profiles._values import (
    Frame,
    columns_of,
    dtype_of,
    is_bool,
    is_numeric,
    numeric_values,
    row_count,
    text_values,
)
from cairn.profiles.bins import DEFAULT_BINS
from cairn.profiles.columns import (
    MAX_CATEGORIES,
    CategoricalReference,
    ColumnReference,
    NumericReference,
    column_reference,
)
from cairn.profiles.psi import EPSILON

FORMAT = "cairn.reference_profile"
"""The ``format`` key of a stored profile."""

VERSION = 2
"""The stored format's version (1: separate training and quality formats)."""

_OWN_KEYS = ("format", "version", "rows", "bins", "epsilon", "columns", "features", "score",
             "label")  # fmt: skip


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Per-column references, the score's reference and the label rate.

    Parameters
    ----------
    features:
        Column name -> its reference, in the data's order.
    score:
        The reference of the model's score, if profiled.
    rows:
        Reference rows.
    bins:
        Quantile bins asked for.
    epsilon:
        The PSI floor of both sides.
    label:
        ``column``, ``positive_value``, ``rate`` (share of positive among present labels) and
        ``count`` (present labels), if a label was profiled.
    meta:
        Other top-level keys (``created_at``, ``data``, ``reference_rows``...), kept through a
        round trip.
    """

    features: Mapping[str, ColumnReference]
    score: NumericReference | None = None
    rows: int = 0
    bins: int = DEFAULT_BINS
    epsilon: float = EPSILON
    label: Mapping[str, Any] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def kinds(self) -> dict[str, str]:
        """Column name -> ``numeric`` or ``categorical``."""
        return {name: ref.kind for name, ref in self.features.items()}

    def column(self, name: str) -> ColumnReference:
        """One column's reference, or a DataError listing the profiled columns."""
        if name not in self.features:
            raise DataError(
                f"the reference profile has no column {name!r}; it profiles "
                f"{', '.join(self.features) or 'no columns'}."
            )
        return self.features[name]

    @classmethod
    def build(
        cls,
        data: Frame,
        *,
        categorical: Collection[str] = (),
        score_column: str | None = None,
        scores: npt.ArrayLike | None = None,
        label: str | None = None,
        labels: npt.ArrayLike | None = None,
        positive_value: Any = 1,
        bins: int = DEFAULT_BINS,
        top_k: int = MAX_CATEGORIES,
        sample: int = 10_000,
        seed: int = 0,
        meta: Mapping[str, Any] | None = None,
    ) -> ReferenceProfile:
        """Profile every column of ``data`` (the score and label columns apart).

        Parameters
        ----------
        data:
            The reference rows (pandas or Arrow; an Arrow table is read one column at a time).
        categorical:
            Columns profiled as categories (text). Boolean columns always are; the others
            must be numeric.
        score_column:
            The column holding the model's score, profiled as the score (None: no score).
        scores:
            The model's scores on the same rows, when they are not a column of ``data``.
        label, labels, positive_value:
            The label column of ``data`` (or the labels themselves) whose share of
            ``positive_value`` is kept as the label rate.
        bins, top_k, sample, seed:
            Quantile bins, categories kept per column, sample size per column and its seed.
        meta:
            Other top-level keys to store.
        """
        columns = columns_of(data)
        for role, name in (("score_column", score_column), ("label", label)):
            if name is not None and name not in columns:
                raise DataError(
                    f"{role} {name!r} is not a column of the reference data; columns are "
                    f"{', '.join(columns)}."
                )
        missing = sorted(set(categorical) - set(columns))
        if missing:
            raise DataError(f"categorical column(s) {', '.join(missing)} are not in the data.")
        if bins < 2:
            raise DataError(f"bins must be at least 2; got {bins}.")
        features: dict[str, ColumnReference] = {}
        profiled = [c for c in columns if c not in (score_column, label)]
        for i, name in enumerate(profiled):
            kind = dtype_of(data, name)
            if name in categorical or is_bool(data, name):
                text = text_values(data, name)
                features[name] = CategoricalReference.build(
                    text, top_k=top_k, sample=sample, seed=seed + i, dtype=kind
                )
            elif is_numeric(data, name):
                features[name] = NumericReference.build(
                    numeric_values(data, name), bins=bins, sample=sample, seed=seed + i,
                    dtype=kind,
                )  # fmt: skip
            else:
                raise DataError(f"column {name!r} is {kind}, not numeric; list it in categorical.")
        score = None
        if score_column is not None:
            scores = numeric_values(data, score_column)
        if scores is not None:
            score = NumericReference.build(
                np.asarray(scores, dtype=np.float64), bins=bins, sample=sample,
                seed=seed + len(profiled),
            )  # fmt: skip
        if label is not None:
            labels = _column(data, label)
        rate = _label_rate(label, labels, positive_value)
        return cls(features, score, row_count(data), bins, EPSILON, rate, dict(meta or {}))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReferenceProfile:
        """Read a stored profile: this format, or a training or quality profile of version 1."""
        if not isinstance(d, Mapping):
            raise DataError(f"A reference profile is a JSON object; got {type(d).__name__}.")
        entries = d.get("columns") if d.get("columns") is not None else d.get("features")
        if not isinstance(entries, Mapping):
            raise DataError(
                "A reference profile needs 'columns' (or 'features', training profiles of "
                f"version 1); got keys {', '.join(map(str, d))}."
            )
        rows = int(d.get("rows", 0))
        features = {
            str(name): column_reference(entry, f"reference profile column {name!r}", rows)
            for name, entry in entries.items()
        }
        score = None
        if d.get("score") is not None:
            ref = column_reference(d["score"], "reference profile score", rows)
            if not isinstance(ref, NumericReference):
                raise DataError("reference profile score: the score must be numeric.")
            score = ref
        meta = {k: v for k, v in d.items() if k not in _OWN_KEYS}
        meta.pop("binning", None)  # version 1's description of its closure
        return cls(
            features, score, rows, int(d.get("bins", DEFAULT_BINS)),
            float(d.get("epsilon", EPSILON)), _read_label(d.get("label")), meta,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The stored form (format version 2); :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION, **self.meta}
        out.update(rows=self.rows, bins=self.bins, epsilon=self.epsilon)
        out["columns"] = {name: ref.to_dict() for name, ref in self.features.items()}
        if self.score is not None:
            out["score"] = self.score.to_dict()
        out["label"] = dict(self.label) if self.label is not None else None
        return out

    def save(self, path: str | Path) -> Path:
        """Write the profile as JSON (creating the folder)."""
        return save_profile(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        """Read a profile written by :meth:`save` (or any older stored form)."""
        return cls.from_dict(load_profile(path))


def save_profile(profile: Mapping[str, Any], path: str | Path) -> Path:
    """Write a stored profile (a dict) as JSON, creating the folder."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(profile, indent=1) + "\n", encoding="utf-8")
    return out


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read a stored profile as a dict (any version), or a DataError naming the file."""
    try:
        profile = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read the reference profile {path}: {exc}") from None
    if not isinstance(profile, dict) or not (
        profile.get("format") == FORMAT or isinstance(profile.get("features"), Mapping)
    ):
        raise DataError(f"{path} is not a Cairn reference profile (format {FORMAT!r}).")
    return profile


def _column(data: Frame, name: str) -> npt.NDArray[Any]:
    if isinstance(data, pa.Table):
        return np.asarray(data.column(name).to_pandas().to_numpy(dtype=object))
    return np.asarray(data[name].to_numpy(dtype=object))


def _label_rate(
    column: str | None, labels: npt.ArrayLike | None, positive: Any
) -> dict[str, Any] | None:
    if labels is None:
        return None
    values = pd.Series(np.asarray(labels, dtype=object).reshape(-1))
    present = values[values.notna()]
    if present.empty:
        return {"column": column, "positive_value": positive, "rate": None, "count": 0}
    hits = int((present.astype(str) == str(positive)).sum())
    if isinstance(positive, (int, float)) and not isinstance(positive, bool):
        numbers = pd.to_numeric(present, errors="coerce")
        hits = int((numbers == positive).sum())
    return {"column": column, "positive_value": positive, "rate": hits / len(present),
            "count": len(present)}  # fmt: skip


def _read_label(label: Any) -> dict[str, Any] | None:
    if not isinstance(label, Mapping):
        return None
    if "positive_rate" in label:  # training profiles of version 1
        return {"column": None, "positive_value": 1, "rate": label["positive_rate"],
                "count": label.get("rows")}  # fmt: skip
    return dict(label)
