"""Model-agnostic local explanations: Shapley values by permutation sampling, with their error.

:func:`explain_rows` explains a batch of rows of any model that has a margin (log-odds, or
points): for each row, ``permutations`` random feature orders (drawn once from ``seed``, the
same for every row) are walked from every background row at once, and each feature's
contribution is the mean of its marginal contributions over the orders
(:func:`~cairn.explain.sklearn_shap.sampling_shap`, the one implementation). What comes back:

* the contributions, bias last (the background's mean margin): each row adds up **exactly** to
  its margin (the marginal contributions of one order telescope);
* per feature, the standard error of its contribution (the standard deviation of its marginal
  contributions over the orders divided by ``sqrt(permutations)``): the estimate is unbiased for
  the Shapley values of the game "features outside the coalition take the background's values",
  and the error shrinks as ``1 / sqrt(permutations)``;
* the budget and seed used, so a result can be reproduced exactly.

The cost is ``permutations * (features + 1) * background rows`` margin evaluations per row,
hence the bounded budget (:data:`MAX_PERMUTATIONS`).

Example
-------
>>> class Sum:
...     def margin(self, X): return X[:, 0] * X[:, 1] + X[:, 2]
>>> rng = np.random.default_rng(0)
>>> out = explain_rows(Sum(), rng.normal(size=(2, 3)), rng.normal(size=(20, 3)), permutations=8)
>>> out.contributions.shape, out.standard_errors.shape, out.permutations, out.seed
((2, 4), (2, 3), 8, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError, DataError
from cairn.explain.sklearn_shap import PERMUTATIONS, sampling_shap

__all__ = [
    "MAX_PERMUTATIONS",
    "MIN_PERMUTATIONS",
    "PERMUTATIONS",
    "HasMargin",
    "Sampled",
    "check_budget",
    "explain_rows",
]

FloatMatrix = npt.NDArray[np.float64]
MIN_PERMUTATIONS = 2
"""The smallest budget: a standard error needs two orders."""
MAX_PERMUTATIONS = 256
"""The largest budget (the cost grows linearly with it)."""


class HasMargin(Protocol):
    """Anything with a margin over the float code matrix (every serving scorer)."""

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        """The raw score per row."""
        ...


@dataclass(frozen=True)
class Sampled:
    """Sampled contributions of a batch of rows (see the module)."""

    contributions: FloatMatrix
    """(rows, features + 1), the bias (background mean margin) last."""
    standard_errors: FloatMatrix
    """(rows, features): the standard error of each contribution."""
    permutations: int
    seed: int
    background_rows: int


def check_budget(permutations: object, *, name: str = "permutations") -> int:
    """``permutations`` as a budget between :data:`MIN_PERMUTATIONS` and
    :data:`MAX_PERMUTATIONS`.

    Example
    -------
    >>> check_budget(16)
    16
    >>> check_budget(1000, name="sampling.permutations")
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: sampling.permutations must be an integer from 2 to 256; got 1000.
    """
    if (
        isinstance(permutations, int)
        and not isinstance(permutations, bool)
        and MIN_PERMUTATIONS <= permutations <= MAX_PERMUTATIONS
    ):
        return permutations
    raise ConfigError(
        f"{name} must be an integer from {MIN_PERMUTATIONS} to {MAX_PERMUTATIONS}; "
        f"got {permutations!r}."
    )


def explain_rows(
    scorer: HasMargin,
    X: FloatMatrix,
    background: FloatMatrix,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> Sampled:
    """Sampled Shapley values of ``scorer.margin`` for the rows of ``X`` (see the module).

    Parameters
    ----------
    scorer:
        The model (its ``margin`` is explained).
    X:
        The rows, as the float code matrix the scorer takes.
    background:
        Rows standing for "feature unknown" (a training sample; at least one row, the same
        columns as ``X``).
    permutations:
        The budget: random feature orders per row (see :func:`check_budget`).
    seed:
        The seed of the orders: the same seed and budget give the same values.

    Raises
    ------
    ConfigError
        A budget out of range.
    DataError
        ``X`` or ``background`` of the wrong shape.
    """
    permutations = check_budget(permutations)
    X = np.asarray(X, dtype=np.float64)
    background = np.asarray(background, dtype=np.float64)
    if X.ndim != 2 or background.ndim != 2 or background.shape[1] != X.shape[1]:
        raise DataError(
            f"explain_rows needs X (rows, features) and a background with the same columns; "
            f"got X of shape {X.shape} and a background of shape {background.shape}."
        )
    if len(background) == 0:
        raise DataError("explain_rows needs a background of at least one row; got none.")
    phi, se = sampling_shap(scorer.margin, X, background, permutations=permutations, seed=seed)
    return Sampled(phi, se, permutations, seed, len(background))
