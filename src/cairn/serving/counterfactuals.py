"""Counterfactuals of served decisions: ``GET /v1/explanations/{id}/counterfactual`` and
``cairn score --counterfactuals``.

A counterfactual answers "what is the smallest change that would have turned this decision?"
for the deployment's **unfavorable** decision (``decision.favorable`` names the favorable one:
credit's decline is unfavorable); a favorable decision or a referral has none. The deployment's
``counterfactual:`` section declares what may change (:class:`~cairn.core.deployments.
CounterfactualPolicy`; without one: any feature, either way, in the reference profile's range,
at most 3); the loaded version's reference profile (``ScoringModel.profile``) gives the
feasible ranges, scales and levels. The engine is :func:`cairn.explain.counterfactual_engine.
find_counterfactual`: exact for scorecards, a budgeted search otherwise.

Example
-------
>>> from cairn.core.deployments import Deployment
>>> d = Deployment.from_dict("credit", {"model": "credit-default@champion"})
>>> unfavorable(d, "decline"), unfavorable(d, "approve"), unfavorable(d, "refer")
(True, False, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.core.deployments import CounterfactualPolicy, Deployment
from cairn.core.predictions import REFER
from cairn.explain.counterfactual import Counterfactual, CounterfactualProblem
from cairn.explain.counterfactual_engine import find_counterfactual
from cairn.serving.models import ScoringModel

__all__ = ["counterfactual_body", "counterfactual_of", "unfavorable"]


def unfavorable(dep: Deployment, decision: str) -> bool:
    """Whether ``decision`` is the deployment's unfavorable one (a referral is neither)."""
    return decision != REFER and decision != dep.decision.favorable_decision


def counterfactual_of(
    dep: Deployment, model: ScoringModel, values: Mapping[str, Any]
) -> Counterfactual | None:
    """The counterfactual of the row ``values`` (feature -> value) scored by ``model`` for
    ``dep``; None when the model's own score of the row does not make the unfavorable decision
    (nothing to turn). A ConfigError names the ``counterfactual`` key when the declaration
    names a feature the model does not have."""
    problem = CounterfactualProblem(
        model.scorer,
        model.matrix([values])[0],
        model.features,
        model.categories,
        dep.threshold,
        dep.counterfactual or CounterfactualPolicy(),
        model.profile,
        where=f"deployments.{dep.name}.counterfactual",
    )
    positive = bool(problem.positive(problem.score_rows(problem.x[None, :]))[0])
    decision = dep.decision.positive if positive else dep.decision.negative
    if not unfavorable(dep, decision):
        return None
    return find_counterfactual(problem)


def counterfactual_body(
    dep: Deployment, model: ScoringModel, row: Mapping[str, Any], cf: Counterfactual
) -> dict[str, Any]:
    """The response of ``GET /v1/explanations/{id}/counterfactual`` for a logged ``row``."""
    return {
        "prediction_id": row["prediction_id"],
        "deployment": dep.name,
        "model": {"name": model.name, "version": model.version},
        "score": row["score"],
        "decision": row["decision"],
        "threshold": dep.threshold,
        "counterfactual": cf.to_dict(dep.decision.positive, dep.decision.negative),
    }
