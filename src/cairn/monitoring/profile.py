"""The reference profile monitoring compares live traffic with (DESIGN §3.5).

A :class:`ReferenceProfile` is the training run's ``reference_profile.json``
(:mod:`cairn.training.profile`) as typed values: per feature a
:class:`~cairn.monitoring.reference.NumericReference` (quantile edges, rows per bin, missing
rows, mean/std, a sorted bounded sample) or a
:class:`~cairn.monitoring.reference.CategoricalReference` (top-k categories with their rows, an
``other`` bucket, missing rows, a sample), and the same for the model's score. Monitoring never
needs the raw training data. :meth:`ReferenceProfile.build` profiles a table with the training
code itself (tests, benchmarks, demos); :meth:`~ReferenceProfile.from_dict` also reads the
quality profile format (``cairn.quality.profile_reference``, left-closed bins).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({"income": rng.normal(3000, 500, 1000),
...                       "job": rng.choice(["fixed", "temp"], 1000),
...                       "score": rng.random(1000)})
>>> p = ReferenceProfile.build(frame, categorical={"job"}, score_column="score", sample=200)
>>> p.kinds(), len(p.features["income"].edges), sorted(p.features["job"].categories)
({'income': 'numeric', 'job': 'categorical'}, 9, ['fixed', 'temp'])
>>> ReferenceProfile.from_dict(p.to_dict()).to_dict() == p.to_dict()
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from cairn.core.errors import DataError
from cairn.monitoring._columns import columns_of, numeric_values
from cairn.monitoring.metrics.psi import Side
from cairn.monitoring.reference import (
    CategoricalReference,
    ColumnReference,
    NumericReference,
    column_reference,
)
from cairn.training.profile import BINNING, PROFILE_VERSION, reference_profile

QUALITY_FORMAT = "cairn.reference_profile"


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Per-feature references, the score's reference, and how bins are closed.

    Parameters
    ----------
    features:
        Feature name -> its reference, in model input order.
    score:
        The reference of the model's score, if profiled.
    rows:
        Reference rows.
    bins:
        Quantile bins asked for (features with few distinct values have fewer).
    side:
        ``numpy.searchsorted`` side mapping a value to its bin: ``left`` for training profiles
        (right-closed bins), ``right`` for quality profiles (left-closed).
    meta:
        Other top-level keys of the JSON (version, label rate...), kept through a round trip.
    """

    features: Mapping[str, ColumnReference]
    score: NumericReference | None = None
    rows: int = 0
    bins: int = 10
    side: Side = "left"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def kinds(self) -> dict[str, str]:
        """Feature name -> ``numeric`` or ``categorical`` (what a window read needs)."""
        return {name: ref.kind for name, ref in self.features.items()}

    @classmethod
    def build(
        cls,
        data: pd.DataFrame | pa.Table,
        *,
        categorical: set[str],
        score_column: str | None = None,
        bins: int = 10,
        top_k: int = 100,
        sample: int = 10_000,
        seed: int = 0,
    ) -> ReferenceProfile:
        """Profile every column of ``data`` (the score column apart) as training does.

        Parameters
        ----------
        data:
            The reference rows (pandas or Arrow).
        categorical:
            Columns profiled as categories (text); the others must be numeric.
        score_column:
            The column holding the model's score, profiled as the score (None: no score).
        bins, top_k, sample, seed:
            Quantile bins, categories kept per column, sample size per column and its seed.
        """
        columns = columns_of(data)
        if score_column is not None and score_column not in columns:
            raise DataError(
                f"score_column {score_column!r} is not a column of the reference data; "
                f"columns are {', '.join(columns)}."
            )
        missing = sorted(set(categorical) - set(columns))
        if missing:
            raise DataError(f"categorical column(s) {', '.join(missing)} are not in the data.")
        if bins < 2:
            raise DataError(f"bins must be at least 2; got {bins}.")
        scores = None
        if score_column is not None:
            scores = numeric_values(data, score_column)
            data = (
                data.drop_columns([score_column])
                if isinstance(data, pa.Table)
                else data.drop(columns=[score_column])
            )
        for name in columns_of(data):
            if name not in categorical and not _numeric(data, name):
                raise DataError(
                    f"column {name!r} is {_dtype(data, name)}, not numeric; list it in categorical."
                )
        raw = reference_profile(
            data, scores, categorical=set(categorical), bins=bins, sample=sample, seed=seed,
            rows="reference", top_k=top_k,
        )  # fmt: skip
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReferenceProfile:
        """Read a training ``reference_profile.json`` (or a quality profile) as a profile."""
        if not isinstance(d, Mapping):
            raise DataError(f"A reference profile is a JSON object; got {type(d).__name__}.")
        if d.get("format") == QUALITY_FORMAT:
            return _from_quality(d)
        if not isinstance(d.get("features"), Mapping):
            raise DataError(
                "A reference profile needs 'features' (training format) or 'format': "
                f"{QUALITY_FORMAT!r} (quality format); got keys {', '.join(map(str, d))}."
            )
        features = {
            str(name): column_reference(entry, f"reference profile feature {name!r}")
            for name, entry in d["features"].items()
        }
        score = None
        if d.get("score") is not None:
            ref = column_reference(d["score"], "reference profile score")
            if not isinstance(ref, NumericReference):
                raise DataError("reference profile score: the score must be numeric.")
            score = ref
        binning = str(d.get("binning", BINNING))
        side: Side = "right" if "side='right'" in binning else "left"
        meta = {k: v for k, v in d.items() if k not in ("features", "score", "rows", "bins")}
        return cls(features, score, int(d.get("rows", 0)), int(d.get("bins", 10)), side, meta)

    def to_dict(self) -> dict[str, Any]:
        """The training profile's JSON form (plus counts); ``from_dict`` reads it back."""
        out: dict[str, Any] = {"version": PROFILE_VERSION, **self.meta}
        out.update(rows=self.rows, bins=self.bins)
        out["binning"] = (
            BINNING if self.side == "left" else BINNING.replace("right-closed", "left-closed")
        ).replace("side='left'", f"side='{self.side}'")
        out["features"] = {name: ref.to_dict() for name, ref in self.features.items()}
        if self.score is not None:
            out["score"] = self.score.to_dict()
        return out


def _numeric(data: pd.DataFrame | pa.Table, name: str) -> bool:
    if isinstance(data, pa.Table):
        kind = data.schema.field(name).type
        return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                    or pa.types.is_boolean(kind) or pa.types.is_decimal(kind))  # fmt: skip
    return bool(pd.api.types.is_numeric_dtype(data[name]))


def _dtype(data: pd.DataFrame | pa.Table, name: str) -> str:
    return str(data.schema.field(name).type if isinstance(data, pa.Table) else data[name].dtype)


def _from_quality(d: Mapping[str, Any]) -> ReferenceProfile:
    """A quality profile: ``columns`` with ``type``, left-closed bins, ``unseen`` as other."""
    rows = int(d.get("rows", 0))
    features: dict[str, ColumnReference] = {}
    for name, c in (d.get("columns") or {}).items():
        where = f"reference profile column {name!r}"
        if c.get("type") == "numeric":
            entry = {**c, "kind": "numeric", "rows": rows}
            entry.pop("counts", None)
            features[name] = NumericReference.from_dict(entry, where)
        elif c.get("type") == "categorical":
            shares = dict(zip(c.get("categories", []), c.get("proportions", []), strict=True))
            entry = {"kind": "categorical", "rows": rows, "categories": shares,
                     "other": c.get("unseen", 0.0), "missing": c.get("missing", 0.0),
                     "sample": c.get("sample", [])}  # fmt: skip
            features[name] = CategoricalReference.from_dict(entry, where)
        else:
            raise DataError(f"{where}: type must be numeric or categorical; got {c.get('type')!r}.")
    meta = {"label": d["label"]} if d.get("label") else {}
    return ReferenceProfile(features, None, rows, int(d.get("bins", 10)), "right", meta)
