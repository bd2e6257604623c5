"""Counterfactuals by search (every family but scorecards): the declaration is respected
(immutables never change, directions, ranges, at most ``max_changes`` features), every answer
really turns the decision, categories are reported by level name, and the time budget stops the
search with a reason."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.deployments import CounterfactualPolicy
from cairn.core.errors import ConfigError
from cairn.explain.counterfactual import CounterfactualProblem, FloatMatrix, FloatVector
from cairn.explain.counterfactual_engine import find_counterfactual
from cairn.profiles.profile import ReferenceProfile

FEATURES = ["income", "debt", "age", "home"]
LEVELS = ["own", "rent", "other"]


class Credit:
    """P(decline): rises with debt and youth, falls with income; renting adds risk."""

    family = "test"

    def predict(self, X: FloatMatrix) -> FloatVector:
        income = np.nan_to_num(X[:, 0], nan=20.0)
        logit = 0.08 * X[:, 1] - 0.05 * income - 0.04 * (X[:, 2] - 40) + 1.5 * (X[:, 3] == 1)
        return np.asarray(1 / (1 + np.exp(-logit)), dtype=np.float64)


class Slow(Credit):
    """The same model, 30 ms per call."""

    def predict(self, X: FloatMatrix) -> FloatVector:
        time.sleep(0.03)
        return super().predict(X)


def _profile() -> ReferenceProfile:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "income": rng.uniform(0, 200, 2000).round(),
            "debt": rng.uniform(0, 100, 2000).round(),
            "age": rng.integers(18, 80, 2000).astype(float),
            "home": rng.choice(LEVELS, 2000),
        }
    )
    return ReferenceProfile.build(data, categorical=["home"], bins=20, seed=0)


PROFILE = _profile()


def _problem(
    x: list[float], policy: CounterfactualPolicy, scorer: Credit | None = None
) -> CounterfactualProblem:
    return CounterfactualProblem(
        scorer or Credit(), np.array(x), FEATURES, {"home": LEVELS}, 0.5, policy, PROFILE
    )


def _rescored(p: CounterfactualProblem, changes: dict[str, object]) -> float:
    x = p.x.copy()
    for name, value in changes.items():
        j = FEATURES.index(name)
        x[j] = LEVELS.index(str(value)) if name == "home" else float(value)  # type: ignore[arg-type]
    return float(p.score_rows(x[None, :])[0])


def test_a_decline_is_turned_by_the_fewest_changes_and_the_answer_rescored() -> None:
    p = _problem([20.0, 60.0, 30.0, 1.0], CounterfactualPolicy(budget_ms=5_000))
    assert p.score_rows(p.x[None, :])[0] >= 0.5  # declined
    cf = find_counterfactual(p)
    assert cf.found and cf.method == "search" and cf.positive is False
    assert len(cf.changes) == 1 and cf.distance is not None and cf.distance > 0
    got = {c.feature: c.after for c in cf.changes}
    assert _rescored(p, got) == pytest.approx(cf.score) and cf.score is not None
    assert cf.score < 0.5 and cf.elapsed_ms > 0


def test_immutables_directions_and_ranges_are_respected() -> None:
    policy = CounterfactualPolicy(
        immutable=("age", "home"),
        directions={"income": "increase", "debt": "decrease"},
        ranges={"income": (0.0, 90.0), "debt": (10.0, 100.0)},
        budget_ms=5_000,
    )
    p = _problem([20.0, 60.0, 30.0, 1.0], policy)
    cf = find_counterfactual(p)
    assert cf.found and {c.feature for c in cf.changes} <= {"income", "debt"}
    for c in cf.changes:
        if c.feature == "income":
            assert 20 < c.after <= 90
        else:
            assert 10 <= c.after < 60
    assert _rescored(p, {c.feature: c.after for c in cf.changes}) < 0.5


def test_max_changes_bounds_the_answer_and_says_so() -> None:
    policy = CounterfactualPolicy(
        immutable=("age", "home"),
        ranges={"income": (0.0, 100.0), "debt": (30.0, 100.0)},
        budget_ms=5_000,
    )
    p = _problem([20.0, 60.0, 30.0, 1.0], policy)
    two = find_counterfactual(p)
    assert two.found and len(two.changes) == 2  # neither income <= 100 nor debt >= 30 alone
    one = find_counterfactual(_problem([20.0, 60.0, 30.0, 1.0], replace(policy, max_changes=1)))
    assert not one.found and one.changes == () and one.score is None
    assert one.reason == "the search found no change of at most 1 feature that flips the decision"


def test_categories_are_reported_by_level_and_a_missing_value_is_filled() -> None:
    policy = CounterfactualPolicy(immutable=("age", "debt"), max_changes=1, budget_ms=5_000)
    p = _problem([math.nan, 40.0, 30.0, 1.0], policy)
    cf = find_counterfactual(p)
    assert cf.found and len(cf.changes) == 1
    change = cf.changes[0].to_dict()
    if change["feature"] == "home":
        assert change["from"] == "rent" and change["to"] in ("own", "other")
    else:
        assert change["from"] is None and isinstance(change["to"], int | float)


def test_the_budget_stops_the_search_and_says_so() -> None:
    policy = CounterfactualPolicy(immutable=("age", "home"), budget_ms=20)
    started = time.perf_counter()
    cf = find_counterfactual(_problem([0.0, 100.0, 20.0, 1.0], policy, Slow()))
    took = (time.perf_counter() - started) * 1000
    assert not cf.found and cf.reason == "none found within the 20 ms budget"
    assert took < 20 + 4 * 30  # at most the batch in flight (and the decision) after the budget


def test_a_declaration_naming_an_unknown_or_categorical_feature_is_one_error() -> None:
    where = "deployments.credit.counterfactual"
    p = CounterfactualProblem(
        Credit(), np.zeros(4), FEATURES, {"home": LEVELS}, 0.5,
        CounterfactualPolicy(directions={"salary": "increase"}), PROFILE, where,
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"counterfactual\.directions names 'salary', which"):
        find_counterfactual(p)
    p = CounterfactualProblem(
        Credit(), np.zeros(4), FEATURES, {"home": LEVELS}, 0.5,
        CounterfactualPolicy(ranges={"home": (0.0, 1.0)}), PROFILE, where,
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"ranges\.home: 'home' is categorical"):
        find_counterfactual(p)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    x=st.tuples(
        st.floats(0, 200), st.floats(0, 100), st.floats(18, 80), st.sampled_from([0.0, 1.0, 2.0])
    ),
    immutable=st.lists(st.sampled_from(FEATURES), max_size=2, unique=True),
    directions=st.dictionaries(
        st.sampled_from(["income", "debt", "age"]), st.sampled_from(["increase", "decrease"])
    ),
    max_changes=st.integers(1, 3),
)
def test_every_answer_is_valid_and_within_the_declaration(
    x: tuple[float, ...], immutable: list[str], directions: dict[str, str], max_changes: int
) -> None:
    directions = {k: v for k, v in directions.items() if k not in immutable}
    policy = CounterfactualPolicy(tuple(immutable), directions, {}, max_changes, 5_000)  # type: ignore[arg-type]
    p = _problem(list(x), policy)
    before = p.score_rows(p.x[None, :])[0] >= 0.5
    cf = find_counterfactual(p)
    if not cf.found:
        assert cf.reason is not None and cf.score is None
        return
    assert 1 <= len(cf.changes) <= max_changes and cf.score is not None
    assert (_rescored(p, {c.feature: c.after for c in cf.changes}) >= 0.5) != before
    assert cf.positive == (not before)
    for c in cf.changes:
        assert c.feature not in immutable and c.after != c.before
        if c.feature == "home":
            continue
        ref = PROFILE.features[c.feature]
        assert ref.min <= c.after <= ref.max  # type: ignore[union-attr, operator]
        if c.feature in directions:
            assert (c.after > c.before) == (directions[c.feature] == "increase")


class Step:
    """Declines (P 0.9) until seniority is above 0 (a tree's split at 1e-9), then approves."""

    family = "test"

    def predict(self, X: FloatMatrix) -> FloatVector:
        return np.where(X[:, 0] > 1e-9, 0.1, 0.9).astype(np.float64)


def test_a_whole_number_feature_moves_in_whole_steps() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"seniority": rng.integers(0, 30, 500).astype(float), "ratio": rng.uniform(0, 1, 500)}
    )
    profile = ReferenceProfile.build(data, categorical=[], bins=10, seed=0)
    policy = CounterfactualPolicy(immutable=("ratio",), budget_ms=5_000)
    p = CounterfactualProblem(
        Step(), np.array([0.0, 0.5]), ["seniority", "ratio"], {}, 0.5, policy, profile
    )
    cf = find_counterfactual(p)
    assert cf.found and [(c.feature, c.after) for c in cf.changes] == [("seniority", 1.0)]
    # a feature with fractional values still moves as little as the decision needs
    data["seniority"] = data["seniority"] + 0.25
    profile = ReferenceProfile.build(data, categorical=[], bins=10, seed=0)
    p = replace(p, profile=profile)
    cf = find_counterfactual(p)
    assert cf.found and 0.0 < float(cf.changes[0].after) < 0.5  # type: ignore[arg-type]
