"""Scorecard counterfactuals are exact: the points arithmetic finds the same fewest changes and
smallest distance as brute force over every bin of every subset of characteristics (scored
through the scorer), and no value anywhere in the feasible ranges needs fewer changes."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.core.deployments import CounterfactualPolicy
from cairn.explain.counterfactual import CounterfactualProblem
from cairn.explain.counterfactual_engine import find_counterfactual
from cairn.explain.counterfactual_feasible import feasible_features
from cairn.explain.counterfactual_scorecard import scorecard_options
from cairn.serving.scorer_scorecard import FORMAT, ScorecardScorer

LEVELS = ["own", "parents", "rent", "other"]
FEATURES = ["income", "debt", "seniority", "home"]
RANGE = (0.0, 100.0)


def card(points: list[list[float]], splits: list[list[float]], offset: float) -> ScorecardScorer:
    """Three numeric characteristics and one categorical (``home``) on [0, 100]."""
    chars: list[dict[str, Any]] = []
    for name, s, p in zip(FEATURES[:3], splits, points[:3], strict=True):
        chars.append(
            {"name": name, "kind": "numeric", "splits": s, "points": p,
             "missing_points": p[0], "fallback_points": p[0], "neutral_points": float(np.mean(p))}
        )  # fmt: skip
    chars.append(
        {"name": "home", "kind": "categorical", "categories": [["own"], ["parents", "other"],
         ["rent"]], "points": points[3], "missing_points": 0.0, "fallback_points": 0.0,
         "neutral_points": 0.0}
    )  # fmt: skip
    table = {"format": FORMAT, "factor": 20.0, "offset": offset, "characteristics": chars}
    return ScorecardScorer(table, features=FEATURES, categories={"home": LEVELS})


def brute_force(p: CounterfactualProblem) -> tuple[int, float] | None:
    """Fewest changes and smallest distance over every option of every subset, through
    ``scorer.predict`` (no pruning, no points arithmetic)."""
    options = scorecard_options(p, feasible_features(p))
    before = p.positive(p.score_rows(p.x[None, :]))[0]
    for k in range(1, p.policy.max_changes + 1):
        best = math.inf
        for combo in itertools.combinations(options, k):
            for picks in itertools.product(*(range(o.values.size) for o in combo)):
                x = p.x.copy()
                for o, i in zip(combo, picks, strict=True):
                    x[o.feasible.column] = o.values[i]
                if p.positive(p.score_rows(x[None, :]))[0] != before:
                    cost = sum(o.costs[i] for o, i in zip(combo, picks, strict=True))
                    best = min(best, float(cost))
        if best < math.inf:
            return k, best
    return None


def fewest_on_a_grid(p: CounterfactualProblem) -> int | None:
    """Fewest changes over a fine grid of every feasible value (not only bin representatives)."""
    feasible = feasible_features(p)
    values = []
    for f in feasible:
        old = float(p.x[f.column])
        cands = [float(i) for i in f.allowed] if f.categorical else np.linspace(*RANGE, 201)
        values.append((f.column, [v for v in cands if f.admits(old, float(v))]))
    before = p.positive(p.score_rows(p.x[None, :]))[0]
    for k in range(1, p.policy.max_changes + 1):
        for combo in itertools.combinations(values, k):
            grids = np.array(list(itertools.product(*(v for _, v in combo))))
            if grids.size == 0:
                continue
            X = np.repeat(p.x[None, :], len(grids), axis=0)
            for i, (col, _) in enumerate(combo):
                X[:, col] = grids[:, i]
            if (p.positive(p.score_rows(X)) != before).any():
                return k
    return None


def _problem(
    scorer: ScorecardScorer, x: list[float], policy: CounterfactualPolicy, threshold: float
) -> CounterfactualProblem:
    ranges = {n: RANGE for n in FEATURES[:3] if n not in policy.immutable}
    policy = CounterfactualPolicy(
        policy.immutable, policy.directions, ranges, policy.max_changes, 10_000.0
    )
    return CounterfactualProblem(scorer, np.array(x), FEATURES, {"home": LEVELS}, threshold, policy)


def test_a_decline_needs_the_cheapest_bins_and_the_answer_is_exact() -> None:
    cuts = [[30, 60], [20, 50], [5, 50]]
    s = card([[0, 20, 40], [30, 10, -10], [0, 5, 15], [10, 5, -5]], cuts, 40)
    p = _problem(s, [10.0, 70.0, 2.0, 2.0], CounterfactualPolicy(immutable=("home",)), 0.5)
    cf = find_counterfactual(p)
    assert cf.found and cf.method == "exact" and cf.positive is False
    assert (len(cf.changes), cf.distance) == brute_force(p)
    assert len(cf.changes) == fewest_on_a_grid(p)
    assert all(c.feature != "home" for c in cf.changes)
    rescored = p.x.copy()
    for c in cf.changes:
        rescored[FEATURES.index(c.feature)] = c.after
    assert p.score_rows(rescored[None, :])[0] == cf.score < 0.5


def test_no_feasible_change_is_a_proof() -> None:
    s = card([[0, 1, 2], [1, 1, 0], [0, 0, 1], [0, 0, 0]], [[30, 60], [20, 50], [5, 50]], 90)
    p = _problem(s, [10.0, 70.0, 2.0, 2.0], CounterfactualPolicy(max_changes=2), 0.5)
    cf = find_counterfactual(p)
    assert not cf.found
    assert cf.reason == "no feasible change of at most 2 features flips the decision"
    assert brute_force(p) is None and fewest_on_a_grid(p) is None


def test_values_are_reported_as_levels_and_the_nearest_point_of_a_bin() -> None:
    cuts = [[30, 60], [20, 50], [5, 50]]
    s = card([[0, 0, 0], [30, 0, 0], [0, 0, 0], [0, 0, 60]], cuts, 50)
    p = _problem(s, [10.0, 70.0, 2.0, 0.0], CounterfactualPolicy(max_changes=1), 0.5)
    cf = find_counterfactual(p)  # own -> rent earns 60 points > 50; debt < 20 only 30
    assert cf.found and [c.to_dict() for c in cf.changes] == [
        {"feature": "home", "from": "own", "to": "rent"}
    ]
    s = card([[0, 0, 0], [60, 0, 0], [0, 0, 0], [0, 0, 60]], cuts, 50)
    p = _problem(s, [10.0, 70.0, 2.0, 0.0], CounterfactualPolicy(("home",), max_changes=1), 0.5)
    cf = find_counterfactual(p)  # debt 70 -> the point of [0, 20) nearest 70
    assert cf.found and [c.to_dict() for c in cf.changes] == [
        {"feature": "debt", "from": 70, "to": 19}
    ]
    assert cf.distance == brute_force(p)[1]  # type: ignore[index]


points = st.lists(st.integers(-20, 40).map(float), min_size=3, max_size=3)
splits = st.lists(st.integers(1, 99).map(float), min_size=2, max_size=2, unique=True).map(sorted)
value = st.one_of(st.integers(0, 100).map(float), st.just(math.nan))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    pts=st.lists(points, min_size=4, max_size=4),
    cuts=st.lists(splits, min_size=3, max_size=3),
    offset=st.integers(0, 120).map(float),
    x=st.tuples(value, value, value, st.sampled_from([0.0, 1.0, 2.0, 3.0, math.nan])),
    immutable=st.lists(st.sampled_from(FEATURES), max_size=2, unique=True),
    directions=st.dictionaries(
        st.sampled_from(FEATURES[:3]), st.sampled_from(["increase", "decrease"]), max_size=2
    ),
    max_changes=st.integers(1, 3),
    threshold=st.floats(0.2, 0.8),
)
def test_exact_equals_brute_force(
    pts: list[list[float]],
    cuts: list[list[float]],
    offset: float,
    x: tuple[float, ...],
    immutable: list[str],
    directions: dict[str, str],
    max_changes: int,
    threshold: float,
) -> None:
    directions = {k: v for k, v in directions.items() if k not in immutable}
    policy = CounterfactualPolicy(tuple(immutable), directions, {}, max_changes)  # type: ignore[arg-type]
    p = _problem(card(pts, cuts, offset), list(x), policy, threshold)
    cf = find_counterfactual(p)
    want = brute_force(p)
    if want is None:
        assert not cf.found and cf.reason is not None and "no feasible change" in cf.reason
        assert fewest_on_a_grid(p) is None
        return
    assert cf.found and len(cf.changes) == want[0]
    assert cf.distance is not None and abs(cf.distance - want[1]) < 1e-9
    assert fewest_on_a_grid(p) in (None, want[0]) or fewest_on_a_grid(p) == want[0]
    for c in cf.changes:
        assert c.feature not in immutable
        j = FEATURES.index(c.feature)
        if c.feature in directions and not math.isnan(p.x[j]):
            assert (c.after > c.before) == (directions[c.feature] == "increase")
        if c.feature != "home":
            assert RANGE[0] <= c.after <= RANGE[1]


def test_a_whole_number_characteristic_is_reported_as_a_whole_number() -> None:
    import pandas as pd

    from cairn.profiles.profile import ReferenceProfile

    rng = np.random.default_rng(0)
    data = pd.DataFrame({n: rng.integers(0, 101, 400).astype(float) for n in FEATURES[:3]})
    data["home"] = rng.choice(LEVELS, 400)
    profile = ReferenceProfile.build(data, categorical=["home"], bins=10, seed=0)
    cuts = [[30.5, 60.5], [20.5, 50.5], [5.5, 50.5]]
    s = card([[0, 60, 60], [0, 0, 0], [0, 0, 0], [0, 0, 0]], cuts, 50)
    policy = CounterfactualPolicy(immutable=("home",), max_changes=1, budget_ms=10_000.0)
    p = CounterfactualProblem(
        s, np.array([10.0, 70.0, 2.0, 0.0]), FEATURES, {"home": LEVELS}, 0.5, policy, profile
    )
    cf = find_counterfactual(p)  # income 10 -> the bin [30.5, 60.5): 31, not 30.5
    assert cf.found and [c.to_dict() for c in cf.changes] == [
        {"feature": "income", "from": 10, "to": 31}
    ]
