"""Counterfactuals of a decision: the problem and the answer.

A counterfactual is the smallest change to the actionable features that turns a decision
(``score >= threshold``: the positive decision, else the negative one) into the other one.
"Smallest" is fewest changed features first, then the smallest **distance**: per changed
numeric feature ``|new - old| / scale``, 1 per changed categorical feature, 1 for a numeric
feature whose value was missing (the scale and what each feature may become:
:mod:`cairn.explain.counterfactual_feasible`).

:func:`cairn.explain.counterfactual_engine.find_counterfactual` solves a
:class:`CounterfactualProblem` into a :class:`Counterfactual`; this module holds the types it
shares with the exact (scorecard) and search methods.

Example
-------
>>> cf = Counterfactual(True, (Change("debt", 1200, 640),), 0.29, False, "search", 0.7, 3.21)
>>> cf.to_dict("decline", "approve")["changes"], cf.to_dict("decline", "approve")["decision"]
([{'feature': 'debt', 'from': 1200, 'to': 640}], 'approve')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from cairn.core.deployments import CounterfactualPolicy
from cairn.profiles.profile import ReferenceProfile

__all__ = [
    "Change",
    "Counterfactual",
    "CounterfactualProblem",
    "FloatMatrix",
    "FloatVector",
    "Method",
    "RowScorer",
]

FloatVector = npt.NDArray[np.float64]
FloatMatrix = npt.NDArray[np.float64]
Method = Literal["exact", "search"]


class RowScorer(Protocol):
    """What the engine needs of a model: the probability of the positive decision per row."""

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """P(positive) per row of the float code matrix."""
        ...


@dataclass(frozen=True)
class CounterfactualProblem:
    """One decided row and what may change in it.

    Parameters
    ----------
    scorer:
        The model (a :class:`~cairn.serving.scorers.Scorer`; a scorecard is solved exactly).
    x:
        The row as the float code matrix holds it (categories as level indices, missing NaN).
    features, categories:
        The model's input columns in order, and per categorical column its levels.
    threshold:
        ``score >= threshold`` is the positive decision.
    policy:
        The deployment's declaration (immutables, directions, ranges, max changes, budget).
    profile:
        The model version's reference profile (feasible ranges, scales, levels), if any.
    where:
        The declaration's key path, for error messages.
    """

    scorer: RowScorer
    x: FloatVector
    features: Sequence[str]
    categories: Mapping[str, Sequence[str]]
    threshold: float
    policy: CounterfactualPolicy = field(default_factory=CounterfactualPolicy)
    profile: ReferenceProfile | None = None
    where: str = "counterfactual"

    def positive(self, scores: FloatVector) -> npt.NDArray[np.bool_]:
        """Whether each score makes the positive decision."""
        return np.asarray(scores >= self.threshold)

    def score_rows(self, X: FloatMatrix) -> FloatVector:
        """The scorer's probabilities of rows ``X``."""
        return np.asarray(self.scorer.predict(X), dtype=np.float64).reshape(-1)


@dataclass(frozen=True)
class Change:
    """One changed feature: its value before and after (level names for categories)."""

    feature: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        """``{"feature", "from", "to"}``."""
        return {"feature": self.feature, "from": self.before, "to": self.after}


@dataclass(frozen=True)
class Counterfactual:
    """The answer: the changes that turn the decision, or why none was found."""

    found: bool
    changes: tuple[Change, ...]
    score: float | None
    positive: bool | None
    """Whether the new score makes the positive decision (None: not found)."""
    method: Method
    distance: float | None
    elapsed_ms: float
    reason: str | None = None

    def to_dict(self, positive: str = "positive", negative: str = "negative") -> dict[str, Any]:
        """The JSON form, the new decision named ``positive`` or ``negative``."""
        decision = None if self.positive is None else positive if self.positive else negative
        return {
            "found": self.found,
            "changes": [c.to_dict() for c in self.changes],
            "score": self.score,
            "decision": decision,
            "method": self.method,
            "distance": self.distance,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "reason": self.reason,
        }
