"""Replay: score rows whose feature values are already known, exactly as serving would.

Backtests and replays (``cairn score``) read features point-in-time from the offline store
and hand the values here. Scoring, the decision and the reason codes run through the same
code as a live request (:meth:`ScoringModel.matrix`, :meth:`ScoringModel.score`,
:func:`cairn.serving.decisions.decide`); routing, fallbacks and the prediction log are not
involved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cairn.core.deployments import Deployment
from cairn.core.predictions import ReasonCode
from cairn.explain import ReasonCodeBook
from cairn.serving.decisions import decide
from cairn.serving.models import ScoringModel

__all__ = ["Replayed", "is_missing", "score_rows"]


@dataclass(frozen=True)
class Replayed:
    """One replayed row: what serving would have answered for its feature values.

    ``features_missing`` counts the model inputs that had no value (null or NaN).
    """

    score: float
    decision: str
    reason_codes: list[ReasonCode]
    summary: str
    explained: bool
    features_missing: int


def is_missing(value: Any) -> bool:
    """Whether a feature value counts as absent (None or a float NaN).

    Example
    -------
    >>> [is_missing(v) for v in (None, float("nan"), 0.0, "a")]
    [True, True, False, False]
    """
    return value is None or (isinstance(value, float) and math.isnan(value))


def score_rows(
    dep: Deployment,
    model: ScoringModel,
    rows: Sequence[Mapping[str, Any]],
    book: ReasonCodeBook | None = None,
    *,
    known: Sequence[bool] | None = None,
) -> list[Replayed]:
    """Score, decide and explain ``rows`` (model column -> value) as deployment ``dep`` does.

    Parameters
    ----------
    dep:
        The deployment: threshold, decision names, explanation policy, ``top_k``.
    model:
        The model to score with (loaded as serving loads it).
    rows:
        The feature values of each row; a column absent from a row is missing.
    book:
        The deployment's reason-code book (default: features named generically).
    known:
        Whether the store knew each row's entity (default: all known). The deployment's
        coverage guard refers a row as serving does: an unknown entity, or fewer present
        features than ``coverage.min_share`` (``reject`` and ``fallback`` count as referrals
        here: a replay neither fails nor has a live fallback).

    Example
    -------
    >>> import numpy as np
    >>> class Half:
    ...     def predict(self, X, **_):
    ...         return np.full(len(X), 0.5)
    >>> m = ScoringModel("m", "1", Half(), ["x"], ["v:x"])
    >>> dep = Deployment.from_dict("d", {"model": "m@champion", "explain": "never"})
    >>> [(r.score, r.decision, r.features_missing) for r in score_rows(dep, m, [{"x": 1}, {}])]
    [(0.5, 'decline', 0), (0.5, 'refer', 1)]
    """
    if not rows:
        return []
    X = model.matrix(rows)
    scores = model.score(X).tolist()
    missing = [sum(is_missing(row.get(f)) for f in model.features) for row in rows]
    total = len(model.features)
    refer = [
        j
        for j, m in enumerate(missing)
        if dep.coverage.action(
            present=total - m, total=total, known=True if known is None else known[j]
        )
        not in (None, "score")
    ]
    decided = decide(dep, model, X, scores, rows, book, refer=refer)
    return [
        Replayed(
            score=float(scores[j]),
            decision=decided.decisions[j],
            reason_codes=decided.reasons.get(j, []),
            summary=decided.summary(j),
            explained=decided.explained[j],
            features_missing=missing[j],
        )
        for j, row in enumerate(rows)
    ]
