"""Counterfactuals of any model by search, within a time budget.

For models whose score is not a sum of per-feature parts (trees, boosters, pipelines) the
smallest change is found by a beam search over **moves** (one feature set to one candidate
value: for a numeric feature the reference profile's bin edges and points inside its feasible
range, and the range ends; for a categorical one each allowed level), every row scored in
batches through the scorer's ``predict``:

1. depth 1 scores every single move; a move that turns the decision ends the search at that
   depth (the cheapest such one is kept);
2. otherwise the ``BEAM`` states that moved the score furthest towards the threshold are
   extended by one more move on another feature, up to ``max_changes`` features;
3. the answer is then tightened: a change the decision does not need is reverted, and each
   numeric change is pulled back towards the original value (two grids of ``PULL_STEPS``
   points, then kept at the closest one that still turns the decision).

The search stops at the first batch after ``budget_ms`` and says so ("none found within the
200 ms budget"); an exhausted search says it found none of at most ``max_changes`` features.
It is a heuristic: fewer changes or a smaller distance may exist off the candidate grid.

Example
-------
>>> import numpy as np
>>> from cairn.core.deployments import CounterfactualPolicy
>>> from cairn.explain.counterfactual import CounterfactualProblem
>>> from cairn.explain.counterfactual_feasible import feasible_features
>>> class Model:  # declines (P >= 0.5) while debt > income / 2
...     def predict(self, X):
...         return (X[:, 1] > X[:, 0] / 2).astype(float)
>>> p = CounterfactualProblem(Model(), np.array([100.0, 80.0]), ["income", "debt"], {}, 0.5,
...     CounterfactualPolicy(ranges={"income": (0.0, 400.0), "debt": (0.0, 200.0)}))
>>> cf = search_counterfactual(p, feasible_features(p))
>>> cf.found, cf.method, [c.feature for c in cf.changes], cf.changes[0].after < 80
(True, 'search', ['debt'], True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from cairn.explain.counterfactual import (
    Counterfactual,
    CounterfactualProblem,
    FloatMatrix,
    FloatVector,
)
from cairn.explain.counterfactual_feasible import (
    Feasible,
    answer,
    at_most,
    not_found,
    numeric_grid,
)
from cairn.profiles.columns import NumericReference

__all__ = ["BEAM", "PULL_STEPS", "search_counterfactual"]

BEAM = 12
"""States carried from one depth to the next."""
PULL_STEPS = 16
"""Points per grid when a numeric change is pulled back towards the original value."""
_CHUNK = 2048
"""Rows scored per batch (the budget is checked between batches)."""

State = dict[int, float]


class _OutOfTime(Exception):
    """The budget ran out."""


def search_counterfactual(
    problem: CounterfactualProblem, feasible: Sequence[Feasible], started: float | None = None
) -> Counterfactual:
    """The smallest counterfactual the search finds in the budget (see the module);
    ``started`` is when the budget began (``time.perf_counter()``; default now)."""
    started = time.perf_counter() if started is None else started
    policy = problem.policy
    budget = f"{policy.budget_ms:g} ms"
    deadline = started + policy.budget_ms / 1000
    x = problem.x
    down = bool(problem.positive(problem.score_rows(x[None, :]))[0])
    cols, vals, costs = _moves(problem, feasible)
    if cols.size == 0:
        return not_found(
            "search", "no feasible change: every feature is immutable or has no feasible "
            "values", started,
        )  # fmt: skip
    beam: list[tuple[State, float]] = [({}, 0.0)]
    try:
        for _ in range(policy.max_changes):
            states = _extend(beam, cols, vals, costs)
            if not states:
                break
            scores = _score(problem, [s for s, _ in states], deadline)
            flipped = problem.positive(scores) != down
            cost = np.asarray([c for _, c in states])
            if flipped.any():
                hits = np.flatnonzero(flipped)
                for i in hits[np.argsort(cost[hits], kind="stable")]:
                    state = _tighten(problem, states[i][0], feasible, down, deadline)
                    cf = answer(problem, state, feasible, "search", started)
                    if cf is not None:
                        return cf
            progress = scores if down else -scores
            order = np.lexsort((cost, progress))[:BEAM]
            beam = [states[i] for i in order]
    except _OutOfTime:
        return not_found("search", f"none found within the {budget} budget", started)
    return not_found(
        "search",
        f"the search found no change of {at_most(policy.max_changes)} that flips the decision",
        started,
    )


def _moves(
    problem: CounterfactualProblem, feasible: Sequence[Feasible]
) -> tuple[np.ndarray, FloatVector, FloatVector]:
    cols: list[int] = []
    vals: list[float] = []
    costs: list[float] = []
    for f in feasible:
        old = float(problem.x[f.column])
        if f.categorical:
            values = [float(i) for i in f.allowed if f.admits(old, float(i))]
        else:
            ref = problem.profile.features.get(f.name) if problem.profile is not None else None
            grid = numeric_grid(f, ref if isinstance(ref, NumericReference) else None, old)
            values = grid.tolist()
        for v in values:
            cols.append(f.column)
            vals.append(v)
            costs.append(f.cost(old, v))
    return np.asarray(cols, dtype=np.int64), np.asarray(vals), np.asarray(costs)


def _extend(
    beam: list[tuple[State, float]], cols: np.ndarray, vals: FloatVector, costs: FloatVector
) -> list[tuple[State, float]]:
    out: list[tuple[State, float]] = []
    seen: set[frozenset[tuple[int, float]]] = set()
    for state, cost in beam:
        for c, v, k in zip(cols.tolist(), vals.tolist(), costs.tolist(), strict=True):
            if c in state:
                continue
            new = {**state, c: v}
            key = frozenset(new.items())
            if key not in seen:
                seen.add(key)
                out.append((new, cost + k))
    return out


def _rows(x: FloatVector, states: Sequence[State]) -> FloatMatrix:
    X = np.repeat(x[None, :], len(states), axis=0)
    for i, state in enumerate(states):
        for c, v in state.items():
            X[i, c] = v
    return X


def _score(problem: CounterfactualProblem, states: Sequence[State], deadline: float) -> FloatVector:
    out = np.empty(len(states))
    for start in range(0, len(states), _CHUNK):
        if time.perf_counter() > deadline:
            raise _OutOfTime
        chunk = states[start : start + _CHUNK]
        out[start : start + len(chunk)] = problem.score_rows(_rows(problem.x, chunk))
    return out


def _tighten(
    problem: CounterfactualProblem,
    state: State,
    feasible: Sequence[Feasible],
    down: bool,
    deadline: float,
) -> State:
    """Revert unneeded changes, then pull numeric ones back (stops early out of time)."""
    by_column = {f.column: f for f in feasible}
    x = problem.x

    def flips(states: Sequence[State]) -> np.ndarray:
        return np.asarray(problem.positive(problem.score_rows(_rows(x, states))) != down)

    costly = sorted(state, key=lambda c: -by_column[c].cost(float(x[c]), state[c]))
    for c in costly:
        if len(state) == 1 or time.perf_counter() > deadline:
            break
        trial = {k: v for k, v in state.items() if k != c}
        if flips([trial])[0]:
            state = trial
    for c in sorted(state):
        f, old = by_column[c], float(x[c])
        if f.categorical or math.isnan(old):
            continue
        near = min(max(old, f.lo), f.hi)
        for _ in range(2):
            if time.perf_counter() > deadline:
                return state
            grid = near + np.linspace(0.0, 1.0, PULL_STEPS + 1)[1:] * (state[c] - near)
            grid = np.unique([f.snap(old, float(v)) for v in grid])
            grid = np.asarray([v for v in grid if f.admits(old, float(v))])
            if old < state[c]:  # nearest to the original first
                grid = grid[grid <= state[c]]
            else:
                grid = grid[::-1][grid[::-1] >= state[c]]
            if grid.size == 0:
                break
            ok = np.flatnonzero(flips([{**state, c: float(v)} for v in grid]))
            if ok.size == 0:
                break
            first = int(ok[0])
            near = float(grid[first - 1]) if first else near
            state = {**state, c: float(grid[first])}
    return state
