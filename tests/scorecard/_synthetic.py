"""A small seeded credit-like data set for fast scorecard tests (no MLflow)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cairn.training.config import ModelSpec
from cairn.training.fit_scorecard import ScorecardModel, fit_scorecard

LEVELS = ["own", "parents", "rent"]


def synthetic(n: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Income (lowers risk), debt (raises it), home (rent riskier); 5% missing values."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    debt = rng.gamma(2.0, 2000.0, n)
    home = rng.choice(LEVELS, n, p=[0.5, 0.2, 0.3])
    logit = -1.0 - 0.8 * (np.log(income) - 10) / 0.5 + 0.0002 * debt + 0.9 * (home == "rent")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    income[rng.random(n) < 0.05] = np.nan
    home = np.where(rng.random(n) < 0.05, None, home)
    X = pd.DataFrame(
        {
            "income": income,
            "debt": debt,
            "home": pd.Categorical(home, categories=LEVELS),
        }
    )
    return X, y


def fit(**params: Any) -> tuple[ScorecardModel, pd.DataFrame, np.ndarray]:
    """A scorecard fitted on :func:`synthetic` with ``params``."""
    X, y = synthetic()
    model = fit_scorecard(
        ModelSpec(kind="scorecard", params=params), X, y, X, y, seed=7, where="test"
    )
    assert isinstance(model, ScorecardModel)
    return model, X, y
