"""Contributions of scikit-learn models that are not trees: exact linear SHAP and
permutation-sampling Shapley values.

* :class:`LinearShap` — a ``LogisticRegression``, alone or at the end of a ``Pipeline`` of
  column-wise transformers (``StandardScaler``, ``SimpleImputer``): the exact interventional
  SHAP values w.r.t. the training means of the transformed inputs ``z``,
  ``phi_j = coef_j * (z_j - mean(z_j))``, summed back onto the input column each ``z_j`` comes
  from; the bias is ``intercept + coef . mean(z)``, so a row adds up to the decision function.
* :func:`sampling_shap` — any other estimator: Shapley values estimated over a fixed budget of
  random feature orders (seeded), each one walked from every background row at once; the
  marginal contributions of one order telescope, so a row adds up exactly to
  ``margin(x) - mean(margin(background))``, the bias being the background's mean margin.
  The standard error per feature (over the orders) comes with them.

Example
-------
>>> rng = np.random.default_rng(0)
>>> bg = rng.normal(size=(20, 3)); x = rng.normal(size=(2, 3))
>>> f = lambda Z: Z[:, 0] * Z[:, 1] + Z[:, 2]
>>> phi, se = sampling_shap(f, x, bg, permutations=8, seed=1)
>>> bool(np.allclose(phi.sum(axis=1), f(x))), phi.shape, se.shape
(True, (2, 4), (2, 3))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PERMUTATIONS", "LinearShap", "linear_parts", "sampling_shap"]

FloatMatrix = npt.NDArray[np.float64]
PERMUTATIONS = 16
"""The declared budget of :func:`sampling_shap`: random feature orders per row."""


def linear_parts(estimator: Any) -> tuple[Any, Any] | None:
    """``(preprocessing or None, LogisticRegression)`` when ``estimator`` is a binary logistic
    regression, alone or after column-wise transformers only; else None."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if isinstance(estimator, LogisticRegression):
        return (None, estimator) if np.shape(estimator.coef_)[0] == 1 else None
    if isinstance(estimator, Pipeline) and isinstance(estimator[-1], LogisticRegression):
        steps = [s for _, s in estimator.steps[:-1] if s not in (None, "passthrough")]
        if all(isinstance(s, (StandardScaler, SimpleImputer)) for s in steps):
            if np.shape(estimator[-1].coef_)[0] == 1:
                return estimator[:-1], estimator[-1]
    return None


class LinearShap:
    """Exact linear SHAP of a (pipelined) logistic regression over input ``columns``.

    Parameters
    ----------
    estimator
        The fitted model (see :func:`linear_parts`).
    columns
        The input column names, in order.
    means
        The training mean of each transformed input ``z`` (see :meth:`transformed_means`).
    """

    def __init__(self, estimator: Any, columns: list[str], means: FloatMatrix) -> None:
        parts = linear_parts(estimator)
        if parts is None:
            raise TypeError(f"{type(estimator).__name__} is not a linear model LinearShap explains")
        self.pre, self.model = parts
        self.columns = columns
        self.means = np.asarray(means, dtype=np.float64).ravel()
        self.coef = np.asarray(self.model.coef_, dtype=np.float64).ravel()
        self.intercept = float(np.ravel(self.model.intercept_)[0])
        self.source = self._sources()

    @staticmethod
    def transformed_means(estimator: Any, X: Any) -> FloatMatrix:
        """The mean over the training rows ``X`` of each transformed input."""
        parts = linear_parts(estimator)
        assert parts is not None
        pre = parts[0]
        Z = np.asarray(X if pre is None else pre.transform(X), dtype=np.float64)
        return np.asarray(Z.mean(axis=0), dtype=np.float64)

    def contributions(self, X: Any) -> FloatMatrix:
        """Per row: one value per input column and the bias last; sums to the decision
        function."""
        Z = np.asarray(X if self.pre is None else self.pre.transform(X), dtype=np.float64)
        per_z = self.coef * (Z - self.means)
        out = np.zeros((len(Z), len(self.columns) + 1))
        np.add.at(out.T, self.source, per_z.T)
        out[:, -1] = self.intercept + float(self.coef @ self.means)
        return out

    def _sources(self) -> npt.NDArray[np.int64]:
        if self.pre is None:
            return np.arange(len(self.columns), dtype=np.int64)
        names = [str(n) for n in self.pre.get_feature_names_out(self.columns)]
        index = {c: i for i, c in enumerate(self.columns)}
        prefix = "missingindicator_"
        return np.array(
            [index[n.removeprefix(prefix) if n not in index else n] for n in names],
            dtype=np.int64,
        )


def sampling_shap(
    margin: Callable[[FloatMatrix], FloatMatrix],
    X: FloatMatrix,
    background: FloatMatrix,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> tuple[FloatMatrix, FloatMatrix]:
    """Permutation-sampling Shapley values of ``margin`` (see the module).

    Returns
    -------
    (contributions, standard errors)
        Shapes (rows, k + 1) with the bias last, and (rows, k).
    """
    X = np.asarray(X, dtype=np.float64)
    background = np.asarray(background, dtype=np.float64)
    n, k = X.shape
    b = len(background)
    bias = float(np.mean(margin(background)))
    phi = np.zeros((n, k + 1))
    se = np.zeros((n, k))
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(k) for _ in range(permutations)]
    for r in range(n):
        batch = np.empty((permutations, k + 1, b, k))
        for p, order in enumerate(orders):
            z = background.copy()
            batch[p, 0] = z
            for step, j in enumerate(order, start=1):
                z[:, j] = X[r, j]
                batch[p, step] = z
        values = np.asarray(margin(batch.reshape(-1, k)), dtype=np.float64)
        means = values.reshape(permutations, k + 1, b).mean(axis=2)
        steps = np.diff(means, axis=1)
        per = np.empty((permutations, k))
        for p, order in enumerate(orders):
            per[p, order] = steps[p]
        phi[r, :k] = per.mean(axis=0)
        se[r] = per.std(axis=0, ddof=1) / np.sqrt(permutations) if permutations > 1 else 0.0
        phi[r, k] = bias
    return phi, se
