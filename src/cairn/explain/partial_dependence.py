"""Partial dependence and ICE curves, one definition for every model family.

For a feature ``j`` and a value ``v``, the individual conditional expectation (ICE) of a row
is the model's probability for that row with feature ``j`` set to ``v``; the partial
dependence is their mean over the rows::

    PD_j(v) = mean over rows i of predict(X_i with X_ij = v)

This is scikit-learn's ``partial_dependence(..., method="brute")`` (``kind="both"`` gives the
same averaged and individual curves), applied here to any object with ``predict`` over the
serving matrix, so boosters, scorecards and scikit-learn estimators are read the same way.

The grid is the feature's quantiles (``grid`` evenly spaced levels from 0 to 1, duplicates
dropped) for a number, and every level index for a category.

Example
-------
>>> class Double:
...     def predict(self, X: FloatMatrix) -> FloatMatrix:
...         return X[:, 0] * 2 + X[:, 1]
>>> X = np.array([[0.0, 1.0], [1.0, 3.0]])
>>> grid = feature_grid(X[:, 0], levels=None, size=3)
>>> grid.tolist()
[0.0, 0.5, 1.0]
>>> curves = dependence(Double(), X, 0, grid)
>>> curves.average.tolist(), curves.individual.tolist()
([2.0, 3.0, 4.0], [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Curves", "Predictor", "dependence", "feature_grid"]

FloatMatrix = npt.NDArray[np.float64]


class Predictor(Protocol):
    """Anything scoring the serving matrix (every :class:`~cairn.serving.scorers.Scorer`)."""

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """The probability of the positive class per row."""
        ...


@dataclass(frozen=True)
class Curves:
    """The PD (``average``, one value per grid point) and the ICE curves of ``rows``
    (``individual``: one row per chosen row, one column per grid point)."""

    grid: FloatMatrix
    average: FloatMatrix
    individual: FloatMatrix


def feature_grid(values: FloatMatrix, *, levels: Sequence[str] | None, size: int) -> FloatMatrix:
    """The values a feature is set to: its level indices for a category, else the ``size``
    quantiles (0 to 1) of its known values, without duplicates (empty when none is known)."""
    if levels is not None:
        return np.arange(len(levels), dtype=np.float64)
    known = values[~np.isnan(values)]
    if known.size == 0:
        return np.empty(0, dtype=np.float64)
    return np.unique(np.quantile(known, np.linspace(0.0, 1.0, size)))


def dependence(
    model: Predictor,
    X: FloatMatrix,
    column: int,
    grid: FloatMatrix,
    *,
    rows: npt.NDArray[np.intp] | None = None,
) -> Curves:
    """PD over every row of ``X`` and ICE of ``rows`` (all rows when None) for ``column``.

    All ``len(grid) * len(X)`` modified rows are scored in one ``predict`` call.
    """
    n, g = len(X), len(grid)
    stacked = np.tile(X, (g, 1))
    stacked[:, column] = np.repeat(grid, n)
    scores = np.asarray(model.predict(stacked), dtype=np.float64).reshape(g, n).T
    chosen = scores if rows is None else scores[rows]
    return Curves(grid, scores.mean(axis=0), chosen)
