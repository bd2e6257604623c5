"""How serving computes a model's contributions: exactly, or by sampling with its error.

Every family's scorer gives contributions, bias last, adding up to the margin. Most are exact
(TreeSHAP for boosters and scikit-learn trees, linear SHAP, a scorecard's points); a scorer
whose ``exact_contributions`` is False (a scikit-learn model with neither) samples them.
:func:`explain_matrix` is the one place serving asks for contributions:

* an exact scorer, ``sampled=False``: the scorer's own values (method :func:`method_of`);
* a sampling scorer, or any scorer with ``sampled=True`` (``GET /v1/explanations/{id}?method=
  sampling``): :func:`~cairn.explain.sampling.explain_rows` with the deployment's budget and
  seed (or the request's budget), over the model's background (:func:`background_of`), with
  the standard error of every contribution.

:func:`explained_on_request` tells the request path whether a deployment explains a model there
(exact, or ``sampling.on_request: true``); otherwise its rows are logged unexplained and
``GET /v1/explanations/{id}`` computes them on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.core.deployments import Deployment, Sampling
from cairn.core.predictions import ReasonCode
from cairn.explain.sampling import explain_rows
from cairn.serving.models import ScoringModel

__all__ = [
    "Explained",
    "background_of",
    "codes_with_errors",
    "explain_matrix",
    "explained_on_request",
    "is_exact",
    "method_of",
]

FloatMatrix = npt.NDArray[np.float64]
NATIVE: dict[str, str] = {"lightgbm": "treeshap", "xgboost": "treeshap", "scorecard": "points"}
"""The method of the families whose scorer does not name one."""


@dataclass(frozen=True)
class Explained:
    """Contributions of a batch of rows, how they were computed and, sampled, their error."""

    contributions: FloatMatrix
    """(rows, features + 1), bias last, adding up to the margin."""
    method: str
    """``treeshap``, ``linear``, ``points`` (exact) or ``sampling``."""
    standard_errors: FloatMatrix | None = None
    """(rows, features) for ``sampling``, else None."""
    permutations: int | None = None
    seed: int | None = None
    background: str | None = None
    """What stood for an unknown feature when sampling (``training sample`` or
    ``reference row``)."""
    background_rows: int | None = None

    @property
    def exact(self) -> bool:
        """The contributions are exact (not sampled)."""
        return self.standard_errors is None

    def sampling(self) -> dict[str, object] | None:
        """The budget, seed and background of a sampled explanation (None when exact)."""
        if self.exact:
            return None
        return {
            "permutations": self.permutations,
            "seed": self.seed,
            "background": self.background,
            "background_rows": self.background_rows,
        }

    def describe(self) -> dict[str, Any]:
        """``method`` and ``sampling`` (budget, seed, background; None when exact), for the
        explanation answer."""
        return {"method": self.method, "sampling": self.sampling()}


def is_exact(model: ScoringModel) -> bool:
    """Are ``model``'s own contributions exact (the scorer's ``exact_contributions``,
    default True)."""
    return bool(getattr(model.scorer, "exact_contributions", True))


def method_of(model: ScoringModel) -> str:
    """How ``model``'s own contributions are computed (the scorer's ``method``, else its
    family's)."""
    method = getattr(model.scorer, "method", None)
    if isinstance(method, str):
        return method
    return NATIVE.get(model.family, "native")


def explained_on_request(dep: Deployment, model: ScoringModel) -> bool:
    """Does ``dep`` explain ``model``'s rows on the request path: exact contributions, or
    sampled ones with ``sampling.on_request: true``."""
    return is_exact(model) or dep.sampling.on_request


def background_of(model: ScoringModel) -> tuple[FloatMatrix, str]:
    """The rows standing for "feature unknown" when sampling ``model``'s contributions.

    The training sample stored with the model when it has one (scikit-learn); else one
    reference row: each numeric feature at the model's reference (its middle value, see
    :meth:`~cairn.serving.scorers.Scorer.references`), the others missing.

    Example
    -------
    >>> m = ScoringModel("m", "1", None, ["x", "home"], [None, None], {"home": ["own"]},
    ...                  references={"x": 2.5})
    >>> background_of(m)[0].tolist(), background_of(m)[1]
    ([[2.5, nan]], 'reference row')
    """
    stored = getattr(model.scorer, "background", None)
    if stored is not None and len(stored):
        return np.asarray(stored, dtype=np.float64), "training sample"
    row = np.full((1, len(model.features)), np.nan)
    for j, name in enumerate(model.features):
        if name in model.references and name not in model.categorical:
            row[0, j] = model.references[name]
    return row, "reference row"


def explain_matrix(
    model: ScoringModel,
    X: FloatMatrix,
    sampling: Sampling,
    *,
    sampled: bool = False,
    permutations: int | None = None,
) -> Explained:
    """The contributions of the rows of ``X`` (see the module).

    Parameters
    ----------
    model:
        The model that scored them.
    X:
        ``model.matrix(values)``.
    sampling:
        The deployment's sampling settings (budget and seed).
    sampled:
        Sample even when the model has an exact method (to compare the two).
    permutations:
        A budget overriding the deployment's (``?permutations=``).
    """
    if not sampled and is_exact(model):
        return Explained(model.contributions(X), method_of(model))
    background, kind = background_of(model)
    budget = sampling.permutations if permutations is None else permutations
    out = explain_rows(model.scorer, X, background, permutations=budget, seed=sampling.seed)
    return Explained(
        out.contributions,
        "sampling",
        out.standard_errors,
        out.permutations,
        out.seed,
        kind,
        out.background_rows,
    )


def codes_with_errors(
    codes: Sequence[ReasonCode], explained: Explained, features: Sequence[str], row: int = 0
) -> list[dict[str, Any]]:
    """Reason codes as JSON dicts; sampled, each with the ``standard_error`` of its
    contribution (row ``row`` of ``explained``).

    Example
    -------
    >>> ex = Explained(np.array([[0.5, -0.1, 0.2]]), "sampling", np.array([[0.05, 0.01]]))
    >>> code = ReasonCode("x", "high", 0.5, 3.0, "X", "x is high")
    >>> codes_with_errors([code], ex, ["x", "y"])[0]["standard_error"]
    0.05
    """
    out = [c.to_dict() for c in codes]
    if explained.standard_errors is not None:
        errors = explained.standard_errors[row]
        index = {name: j for j, name in enumerate(features)}
        for code in out:
            code["standard_error"] = float(errors[index[code["feature"]]])
    return out
