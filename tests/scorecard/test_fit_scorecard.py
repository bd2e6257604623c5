"""The scorecard family on seeded synthetic data: the JSON points table evaluated with numpy
equals optbinning's own ``score`` and ``predict_proba`` (missing and unseen values included)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cairn.core.errors import ConfigError
from cairn.serving.scorer_scorecard import ScorecardScorer
from cairn.training.config import ModelSpec
from cairn.training.fit_scorecard import ScorecardModel, codes, fit_scorecard, quiet_optbinning
from tests.scorecard._synthetic import LEVELS, fit, synthetic

pytestmark = pytest.mark.slow  # importing optbinning (ortools, cvxpy) takes 6-16 s
TRENDS = {"income": "descending", "debt": "ascending"}


@pytest.fixture(scope="module")
def card() -> tuple[ScorecardModel, pd.DataFrame, np.ndarray]:
    return fit(monotonic_trend=TRENDS)


def _scorer(model: ScorecardModel) -> ScorecardScorer:
    # through JSON text, as the loader reads it: the artifact alone carries the model
    table = json.loads(json.dumps(model.table))
    return ScorecardScorer(table, features=["income", "debt", "home"], categories=model.categories)


def _score(model: ScorecardModel, X: pd.DataFrame) -> np.ndarray:
    """optbinning's own points total."""
    with quiet_optbinning():
        return np.asarray(model.estimator.score(X))


def _proba(model: ScorecardModel, X: pd.DataFrame) -> np.ndarray:
    """optbinning's own ``predict_proba``."""
    with quiet_optbinning():
        return np.asarray(model.estimator.predict_proba(X)[:, 1])


def _raw(X: pd.DataFrame) -> pd.DataFrame:
    """What optbinning reads: categories as plain objects."""
    return X.assign(home=X["home"].astype(object))


def test_the_points_table_equals_optbinning_score_and_predict_proba(
    card: tuple[ScorecardModel, pd.DataFrame, np.ndarray],
) -> None:
    model, X, _ = card
    s = _scorer(model)
    C = codes(X, model.categories)
    assert np.isnan(C).any()  # missing values of both kinds are in the rows
    np.testing.assert_allclose(s.points(C), _score(model, _raw(X)), rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.predict(C), model.predict(X), rtol=0, atol=1e-9)
    proba = _proba(model, _raw(X))
    np.testing.assert_allclose(s.predict(C), proba, rtol=0, atol=1e-9)


def test_missing_and_unseen_values_score_as_optbinning_predicts(
    card: tuple[ScorecardModel, pd.DataFrame, np.ndarray],
) -> None:
    model, _, _ = card
    s = _scorer(model)
    raw = pd.DataFrame(
        {
            "income": [np.nan, 5e4, np.nan],
            "debt": [1000.0, np.nan, np.nan],
            "home": pd.Series(["martian", None, None], dtype=object),
        }
    )
    # an unseen level reaches the scorer as a code outside the levels
    C = np.array([[np.nan, 1000.0, 99.0], [5e4, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(s.predict(C), _proba(model, raw), rtol=0, atol=1e-9)
    score = _score(model, raw)
    np.testing.assert_allclose(s.points(C)[1:], score[1:], rtol=0, atol=1e-9)
    # optbinning's score() gives an unseen level its Missing bin; predict_proba gives it WoE 0,
    # the declared fallback the points table serves (the probability decides)
    home = model.table["characteristics"][2]
    assert s.points(C)[0] - score[0] == pytest.approx(
        home["fallback_points"] - home["missing_points"], abs=1e-9
    )


def test_contributions_add_up_to_the_margin_and_to_minus_the_points(
    card: tuple[ScorecardModel, pd.DataFrame, np.ndarray],
) -> None:
    model, X, _ = card
    s = _scorer(model)
    C = codes(X.iloc[:500], model.categories)
    phi = s.contributions(C)
    assert phi.shape == (500, 4)
    np.testing.assert_allclose(phi.sum(axis=1), s.margin(C), rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.margin(C), -s.points(C), rtol=0, atol=1e-9)
    # the margin rises with the probability of default, as every family's
    order = np.argsort(s.margin(C))
    assert np.all(np.diff(s.predict(C)[order]) >= -1e-15)


def test_declared_monotonic_trends_hold_in_the_points_table(
    card: tuple[ScorecardModel, pd.DataFrame, np.ndarray],
) -> None:
    model, _, _ = card
    chars = {c["name"]: c for c in model.table["characteristics"]}
    income, debt = np.diff(chars["income"]["points"]), np.diff(chars["debt"]["points"])
    assert len(income) >= 2 and len(debt) >= 2
    assert np.all(income >= 0)  # default rate descending in income: more income, more points
    assert np.all(debt <= 0)  # default rate ascending in debt: more debt, fewer points
    assert chars["income"]["monotonic_trend"] == "descending"
    assert sorted(lv for members in chars["home"]["categories"] for lv in members) == LEVELS


def test_neutral_max_makes_every_contribution_a_shortfall() -> None:
    model, X, _ = fit(neutral="max", max_n_bins=4)
    s = model.scorer(list(X.columns), model.categories)
    phi = s.contributions(codes(X.iloc[:300], model.categories))
    assert np.all(phi[:, :-1] >= -1e-12)  # points below each characteristic's best bin
    best = max(model.table["characteristics"][0]["points"])
    assert model.table["characteristics"][0]["neutral_points"] == best


def test_references_and_the_points_table_rows(
    card: tuple[ScorecardModel, pd.DataFrame, np.ndarray],
) -> None:
    model, _, _ = card
    s = _scorer(model)
    refs = s.references()
    assert set(refs) == {"income", "debt"}  # numeric characteristics only
    splits = model.table["characteristics"][0]["splits"]
    assert refs["income"] in splits
    rows = s.points_table()
    assert {r["characteristic"] for r in rows} == {"income", "debt", "home"}
    assert sum(r["neutral"] for r in rows) == 3  # one neutral bin per characteristic
    assert {"characteristic", "bin", "points", "neutral"} == set(rows[0])
    assert [r["bin"] for r in rows if r["characteristic"] == "home"][-2:] == ["Missing", "Special"]


def test_bad_params_get_one_clear_error() -> None:
    X, y = synthetic(200)
    with pytest.raises(ConfigError, match=r"neutral must be one of woe_zero, min, max; got 'mid'"):
        fit_scorecard(ModelSpec("scorecard", {"neutral": "mid"}), X, y, X, y, seed=1, where="t")
    with pytest.raises(ConfigError, match=r"take pdo, odds, .*; got learning_rate"):
        fit_scorecard(ModelSpec("scorecard", {"learning_rate": 1}), X, y, X, y, seed=1, where="t")
    with pytest.raises(ConfigError, match=r"monotonic_trend names numeric features; got home"):
        params = {"monotonic_trend": {"home": "ascending"}}
        fit_scorecard(ModelSpec("scorecard", params), X, y, X, y, seed=1, where="t")
