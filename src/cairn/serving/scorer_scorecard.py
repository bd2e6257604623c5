"""The scorecard family: a JSON points table evaluated with numpy (:class:`ScorecardScorer`).

The artifact is data, not code: per characteristic its bins (numeric intervals ``[a, b)`` or
sets of category levels), a ``Missing`` bin, an unseen/``Special`` fallback and the points of
each; the scaling (``factor``, ``offset``: points are affine in the log-odds) and a declared
neutral per characteristic. Loading it runs nothing.

Direction. Points follow the credit convention (more points, lower risk: ``points = offset -
factor * log-odds(default)``). Every scorer's margin rises with the probability of the positive
class, so this one serves ``margin = -points`` ("points short of zero") and each
characteristic's contribution is ``neutral - points``: positive when the applicant earned
fewer points than the neutral, i.e. when it pushed the probability of default **up**. Reason
codes (the largest positive contributions) are then the characteristics that lost the most
points, exact and monotone in each characteristic by construction. The bias is
``-sum(neutrals)``, so contributions add up to the margin exactly.

Example
-------
>>> table = {
...     "format": FORMAT, "factor": 20.0, "offset": 500.0, "points_offset": 0.0,
...     "characteristics": [{
...         "name": "age", "kind": "numeric", "splits": [30.0], "points": [40.0, 60.0],
...         "missing_points": 45.0, "fallback_points": 50.0, "neutral_points": 50.0}]}
>>> s = ScorecardScorer(table, features=["age"], categories={})
>>> X = np.array([[25.0], [31.0], [np.nan]])
>>> s.points(X).tolist(), s.contributions(X)[:, 0].tolist()
([40.0, 60.0, 45.0], [10.0, -10.0, 5.0])
>>> bool(np.allclose(s.contributions(X).sum(axis=1), s.margin(X))), s.references()
(True, {'age': 30.0})
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError

__all__ = ["FORMAT", "TABLE_FILE", "ScorecardScorer", "load_scorecard"]

FloatMatrix = npt.NDArray[np.float64]
FORMAT = "cairn.scorecard/1"
"""The ``format`` of the points table this module reads."""
TABLE_FILE = "scorecard.json"
"""The points table's file name inside the model's artifact folder."""


@dataclass(frozen=True)
class _Characteristic:
    """One column's lookup: numeric (``splits``) or categorical (``by_level``)."""

    name: str
    column: int
    splits: npt.NDArray[np.float64] | None
    points: npt.NDArray[np.float64]
    missing: float
    fallback: float
    neutral: float

    def lookup(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The points of each value of this column (NaN: Missing; unknown code: fallback)."""
        out = np.full(x.shape, self.fallback)
        present = ~np.isnan(x)
        if self.splits is not None:
            idx = np.searchsorted(self.splits, x[present], side="right")
            out[present] = self.points[idx]
        else:
            codes = x[present]
            known = (codes >= 0) & (codes < len(self.points)) & (codes == np.floor(codes))
            values = np.full(codes.shape, self.fallback)
            values[known] = self.points[codes[known].astype(np.int64)]
            out[present] = values
        out[~present] = self.missing
        return out


class ScorecardScorer:
    """A points table (see the module) scored on the float code matrix serving builds."""

    family = "scorecard"
    units = "points"

    def __init__(
        self, table: dict[str, Any], *, features: list[str], categories: dict[str, list[str]]
    ) -> None:
        if table.get("format") != FORMAT:
            raise ConfigError(
                f"The scorecard table must have format {FORMAT!r}; got {table.get('format')!r}."
            )
        self.table = table
        self.features = list(features)
        self.factor = float(table["factor"])
        self.offset = float(table["offset"])
        self.points_offset = float(table.get("points_offset", 0.0))
        column = {name: j for j, name in enumerate(self.features)}
        chars = []
        for c in table["characteristics"]:
            name = str(c["name"])
            if name not in column:
                raise ConfigError(
                    f"The scorecard's characteristic {name!r} is not a model input "
                    f"(inputs: {', '.join(self.features)})."
                )
            chars.append(_characteristic(c, column[name], categories.get(name)))
        self._chars = chars

    def points(self, X: FloatMatrix) -> FloatMatrix:
        """The credit-convention points total per row (more points: lower risk)."""
        phi = self._per_characteristic(X)
        return np.asarray(phi.sum(axis=1) + self.points_offset, dtype=np.float64)

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """P(default) = 1 / (1 + exp(-(offset - points) / factor))."""
        logit = (self.offset - self.points(X)) / self.factor
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        """Minus the points total (rises with the probability of default)."""
        return np.asarray(self.contributions(X).sum(axis=1), dtype=np.float64)

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """``neutral - points`` per characteristic (0 for inputs the card does not use), and
        the bias ``-(sum of neutrals + points offset)`` last."""
        per = self._per_characteristic(X)
        out = np.zeros((X.shape[0], len(self.features) + 1))
        bias = -self.points_offset
        for i, c in enumerate(self._chars):
            out[:, c.column] = c.neutral - per[:, i]
            bias -= c.neutral
        out[:, -1] = bias
        return out

    def references(self) -> dict[str, float]:
        """Per numeric characteristic the lower edge of its neutral bin (the regular bin whose
        points are nearest the neutral; its upper edge when that bin starts at -inf)."""
        refs: dict[str, float] = {}
        for c in self._chars:
            if c.splits is None or len(c.splits) == 0:
                continue
            i = int(np.argmin(np.abs(c.points - c.neutral)))
            refs[c.name] = float(c.splits[i - 1] if i > 0 else c.splits[0])
        return refs

    def warm(self) -> None:
        """Score and explain one all-missing row."""
        X = np.full((1, len(self.features)), np.nan)
        self.predict(X)
        self.contributions(X)

    def points_table(self) -> list[dict[str, Any]]:
        """Rows ``characteristic, bin, points, neutral`` (the bin nearest the neutral flagged),
        for the global explanation page."""
        rows: list[dict[str, Any]] = []
        for c in self.table["characteristics"]:
            pts = [float(p) for p in c["points"]]
            labels = [str(b) for b in c.get("bins", [])] or [str(i) for i in range(len(pts))]
            nearest = int(np.argmin(np.abs(np.asarray(pts) - float(c["neutral_points"]))))
            for i, (label, p) in enumerate(zip(labels, pts, strict=True)):
                rows.append(
                    {
                        "characteristic": c["name"],
                        "bin": label,
                        "points": p,
                        "neutral": i == nearest,
                    }
                )
            for label, key in (("Missing", "missing_points"), ("Special", "fallback_points")):
                rows.append(
                    {
                        "characteristic": c["name"],
                        "bin": label,
                        "points": float(c[key]),
                        "neutral": False,
                    }
                )
        return rows

    def _per_characteristic(self, X: FloatMatrix) -> FloatMatrix:
        X = np.asarray(X, dtype=np.float64)
        out = np.empty((X.shape[0], len(self._chars)))
        for i, c in enumerate(self._chars):
            out[:, i] = c.lookup(X[:, c.column])
        return out


def _characteristic(c: dict[str, Any], column: int, levels: list[str] | None) -> _Characteristic:
    name = str(c["name"])
    points = np.asarray(c["points"], dtype=np.float64)
    fallback = float(c["fallback_points"])
    splits: npt.NDArray[np.float64] | None = None
    if c["kind"] == "numeric":
        splits = np.asarray(c["splits"], dtype=np.float64)
        if len(points) != len(splits) + 1:
            raise ConfigError(
                f"Scorecard characteristic {name!r}: {len(splits)} splits need "
                f"{len(splits) + 1} points; got {len(points)}."
            )
    elif levels is None:
        raise ConfigError(
            f"Scorecard characteristic {name!r} is categorical but the model has no levels for it."
        )
    else:  # level index -> the points of the bin holding that level (none: the fallback)
        by_level = np.full(len(levels), fallback)
        for members, p in zip(c["categories"], points, strict=True):
            for level in members:
                if level in levels:
                    by_level[levels.index(level)] = p
        points = by_level
    return _Characteristic(
        name=name,
        column=column,
        splits=splits,
        points=points,
        missing=float(c["missing_points"]),
        fallback=fallback,
        neutral=float(c["neutral_points"]),
    )


def load_scorecard(
    folder: Path, *, features: list[str], categories: dict[str, list[str]]
) -> ScorecardScorer:
    """The points table (``scorecard.json``) of a scorecard artifact folder."""
    found = next(iter(sorted(folder.rglob(TABLE_FILE))), None)
    if found is None:
        raise ConfigError(f"The model at {folder} has no points table ({TABLE_FILE}).")
    table = json.loads(found.read_text())
    return ScorecardScorer(table, features=features, categories=categories)
