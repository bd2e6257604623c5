"""Exact counterfactuals of a scorecard, by points arithmetic.

A scorecard's margin is a sum over characteristics, each depending on its own feature only
(``neutral - points`` of the bin the value falls in; see
:mod:`cairn.serving.scorer_scorecard`), and its probability is monotone in the margin. So every
value of a bin is as good as any other of it, and a counterfactual is a choice of one bin per
changed characteristic:

1. per actionable characteristic, every bin reachable under the declaration (range, direction;
   for a categorical one, every allowed level) with its **gain** (the margin it moves towards the
   other decision, read off the scorer's own contributions) and its cost; the value reported for
   a bin is its feasible point closest to the current value (just below an upper edge: the
   largest whole number, else the largest number of 1-6 decimals, below it);
2. per characteristic, the options that some cheaper option does not beat (the others are never
   part of a smallest answer: swapping one in is as effective and cheaper);
3. every subset of 1, 2, ... up to ``max_changes`` characteristics and every combination of
   their options (vectorised numpy), the first size with a combination that crosses the
   threshold, the cheapest such combination (re-scored through the scorer before it is
   returned).

The answer is the exact minimum over the bins' reported values: fewest changed characteristics,
then smallest distance; "no feasible change flips the decision" is then a proof, not a budget.
The enumeration still stops at ``budget_ms`` (only reachable with many characteristics and a
large ``max_changes``) and says so.

Example
-------
>>> import numpy as np
>>> from cairn.core.deployments import CounterfactualPolicy
>>> from cairn.explain.counterfactual import CounterfactualProblem
>>> from cairn.explain.counterfactual_feasible import feasible_features
>>> from cairn.serving.scorer_scorecard import FORMAT, ScorecardScorer
>>> char = {"name": "income", "kind": "numeric", "splits": [1000.0, 3000.0],
...         "points": [10.0, 40.0, 70.0], "missing_points": 20.0, "fallback_points": 20.0,
...         "neutral_points": 40.0}
>>> card = ScorecardScorer({"format": FORMAT, "factor": 20.0, "offset": 60.0,
...     "characteristics": [char]}, features=["income"], categories={})
>>> p = CounterfactualProblem(card, np.array([500.0]), ["income"], {}, 0.5,
...     CounterfactualPolicy(ranges={"income": (0.0, 9000.0)}))
>>> cf = exact_counterfactual(p, feasible_features(p))
>>> cf.found, [c.to_dict() for c in cf.changes], cf.method
(True, [{'feature': 'income', 'from': 500, 'to': 3000}], 'exact')
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.explain.counterfactual import Counterfactual, CounterfactualProblem, FloatVector
from cairn.explain.counterfactual_feasible import Feasible, answer, at_most, not_found

__all__ = ["Option", "exact_counterfactual", "is_scorecard", "scorecard_options"]


def is_scorecard(scorer: Any) -> bool:
    """Whether ``scorer`` is a points table (a ``scorecard`` family scorer with its table)."""
    return getattr(scorer, "family", None) == "scorecard" and isinstance(
        getattr(scorer, "table", None), dict
    )


@dataclass(frozen=True)
class Option:
    """The options of one characteristic: new values, their gains (margin moved towards the
    other decision) and costs, cheapest first."""

    feasible: Feasible
    values: FloatVector
    gains: FloatVector
    costs: FloatVector


def scorecard_options(problem: CounterfactualProblem, feasible: Sequence[Feasible]) -> list[Option]:
    """Per actionable characteristic, its reachable bins (one value each), gains and costs,
    every option kept (the input of :func:`exact_counterfactual` and of brute-force checks)."""
    scorer: Any = problem.scorer
    table = scorer.table
    splits = {
        str(c["name"]): np.asarray(c["splits"], dtype=np.float64)
        for c in table["characteristics"]
        if c["kind"] == "numeric"
    }
    used = {str(c["name"]) for c in table["characteristics"]}
    x = problem.x
    base = np.asarray(scorer.contributions(x[None, :]), dtype=np.float64)[0]
    down = bool(problem.positive(problem.score_rows(x[None, :]))[0])
    out: list[Option] = []
    for f in feasible:
        if f.name not in used:
            continue  # the card does not use it: changing it changes nothing
        old = float(x[f.column])
        if f.categorical:
            values = [float(i) for i in f.allowed if f.admits(old, float(i))]
        else:
            values = _bin_values(f, splits[f.name], old)
        if not values:
            continue
        rows = np.repeat(x[None, :], len(values), axis=0)
        rows[:, f.column] = values
        delta = np.asarray(scorer.contributions(rows), dtype=np.float64)[:, f.column]
        delta = delta - base[f.column]
        gains = -delta if down else delta
        costs = np.asarray([f.cost(old, v) for v in values], dtype=np.float64)
        order = np.lexsort((-gains, costs))
        out.append(Option(f, np.asarray(values)[order], gains[order], costs[order]))
    return out


def exact_counterfactual(
    problem: CounterfactualProblem, feasible: Sequence[Feasible], started: float | None = None
) -> Counterfactual:
    """The smallest counterfactual of a scorecard's decision (see the module); ``started``
    is when the budget began (``time.perf_counter()``; default now)."""
    started = time.perf_counter() if started is None else started
    scorer: Any = problem.scorer
    factor, offset = float(scorer.table["factor"]), float(scorer.table["offset"])
    x = problem.x
    margin = float(np.asarray(scorer.margin(x[None, :]), dtype=np.float64)[0])
    down = bool(problem.positive(problem.score_rows(x[None, :]))[0])
    sign = -1.0 if down else 1.0
    options = [_frontier(o) for o in _helpful(problem, feasible)]
    options = [o for o in options if o.values.size]
    deadline = started + problem.policy.budget_ms / 1000

    def flips(gains: FloatVector) -> npt.NDArray[np.bool_]:
        scores = 1.0 / (1.0 + np.exp(-(offset + margin + sign * gains) / factor))
        return np.asarray(problem.positive(scores) != down)

    best_gain = np.asarray([o.gains.max() for o in options], dtype=np.float64)
    for k in range(1, min(problem.policy.max_changes, len(options)) + 1):
        found: list[tuple[float, tuple[int, ...], tuple[int, ...]]] = []
        for combo in itertools.combinations(range(len(options)), k):
            if time.perf_counter() > deadline:
                budget = f"{problem.policy.budget_ms:g} ms"
                return not_found("exact", f"none found within the {budget} budget", started)
            if not flips(np.array([best_gain[list(combo)].sum()]))[0]:
                continue  # even each characteristic's best bin does not reach the threshold
            grids = np.ix_(*(options[i].gains for i in combo))
            gains = sum(grids, np.zeros([options[i].gains.size for i in combo]))
            hit = np.argwhere(flips(np.asarray(gains)))
            if hit.size == 0:
                continue
            costs = sum(np.ix_(*(options[i].costs for i in combo)))
            for cell in hit:
                at = tuple(int(i) for i in cell)
                found.append((float(np.asarray(costs)[at]), combo, at))
        found.sort(key=lambda item: item[0])
        for _, combo, idx in found:
            changed = {
                options[i].feasible.column: float(options[i].values[j])
                for i, j in zip(combo, idx, strict=True)
            }
            cf = answer(problem, changed, feasible, "exact", started)
            if cf is not None:
                return cf
    k = problem.policy.max_changes
    return not_found("exact", f"no feasible change of {at_most(k)} flips the decision", started)


def _helpful(problem: CounterfactualProblem, feasible: Sequence[Feasible]) -> list[Option]:
    """The options that move the margin towards the other decision (a positive gain)."""
    out = []
    for o in scorecard_options(problem, feasible):
        keep = o.gains > 0
        out.append(Option(o.feasible, o.values[keep], o.gains[keep], o.costs[keep]))
    return out


def _frontier(o: Option) -> Option:
    """The options no cheaper (or equally cheap, earlier) option beats in gain."""
    keep, best = [], -math.inf
    for i, gain in enumerate(o.gains):
        if gain > best:
            keep.append(i)
            best = float(gain)
    return Option(o.feasible, o.values[keep], o.gains[keep], o.costs[keep])


def _bin_values(f: Feasible, splits: FloatVector, old: float) -> list[float]:
    """One feasible value per bin other than the current one, closest to ``old``."""
    edges = [-math.inf, *splits.tolist(), math.inf]
    current = -1 if math.isnan(old) else int(np.searchsorted(splits, old, side="right"))
    values = []
    for i in range(len(edges) - 1):
        if i == current:
            continue
        low = max(edges[i], f.lo)
        high, open_high = (f.hi, False) if f.hi < edges[i + 1] else (edges[i + 1], True)
        if low > high or (open_high and low >= high):
            continue
        if math.isnan(old):
            target = low if math.isnan(f.anchor) else f.anchor
        else:
            target = old
        if target <= low:
            value = low
        elif target < high or (target == high and not open_high):
            value = target
        else:
            value = _just_below(high, low) if open_high else high
        whole = f.snap(old, value)
        if whole != value and (low <= whole < high or (whole == high and not open_high)):
            value = whole  # a whole-number feature: the whole number in the bin, if any
        if f.admits(old, value):
            values.append(float(value))
    return values


def _just_below(edge: float, low: float) -> float:
    """The largest whole number below ``edge`` (else of 1-6 decimals, else the next float
    down) that is at least ``low``."""
    for digits in range(7):
        step = 10.0**-digits
        value = round(math.floor(edge / step) * step, digits)
        if value >= edge:
            value = round(value - step, digits)
        if low <= value < edge:
            return value
    return float(np.nextafter(edge, -math.inf))
