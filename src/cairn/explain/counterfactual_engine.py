"""The one entry point of counterfactuals: :func:`find_counterfactual`.

It checks the declaration against the model (a feature the model does not have is one
ConfigError naming the key), works out what each actionable feature may become
(:func:`~cairn.explain.counterfactual.feasible_features`), then solves the problem **exactly**
for a scorecard (:mod:`cairn.explain.counterfactual_scorecard`: points arithmetic) and by
**search** within the time budget for every other family
(:mod:`cairn.explain.counterfactual_search`). Every counterfactual it returns as found has been
re-scored through the scorer and makes the other decision.

Example
-------
>>> import numpy as np
>>> from cairn.core.deployments import CounterfactualPolicy
>>> from cairn.explain.counterfactual import CounterfactualProblem
>>> class Model:
...     family = "sklearn"
...     def predict(self, X):
...         return 1 / (1 + np.exp(-(X[:, 0] - 5)))
>>> p = CounterfactualProblem(Model(), np.array([7.0]), ["debt"], {}, 0.5,
...     CounterfactualPolicy(ranges={"debt": (0.0, 10.0)}))
>>> cf = find_counterfactual(p)
>>> cf.found, cf.positive, cf.method, cf.changes[0].after < 5
(True, False, 'search', True)
>>> find_counterfactual(CounterfactualProblem(Model(), np.array([7.0]), ["debt"], {}, 0.5,
...     CounterfactualPolicy(immutable=("age",)), where="deployments.credit.counterfactual"))
Traceback (most recent call last):
...
cairn.core.errors.ConfigError: deployments.credit.counterfactual.immutable names 'age', which the model does not have (its features: debt).
"""  # noqa: E501

from __future__ import annotations

import time

from cairn.explain.counterfactual import Counterfactual, CounterfactualProblem
from cairn.explain.counterfactual_feasible import check_policy, feasible_features
from cairn.explain.counterfactual_scorecard import exact_counterfactual, is_scorecard
from cairn.explain.counterfactual_search import search_counterfactual

__all__ = ["find_counterfactual"]


def find_counterfactual(problem: CounterfactualProblem) -> Counterfactual:
    """The smallest change that turns ``problem``'s decision (see the module)."""
    started = time.perf_counter()
    check_policy(problem)
    feasible = feasible_features(problem)
    if is_scorecard(problem.scorer):
        return exact_counterfactual(problem, feasible, started)
    return search_counterfactual(problem, feasible, started)
