"""A tiny LightGBM model over the serving test project's features, and a fake loader."""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from cairn.explain import split_references
from cairn.serving.models import ScoringModel

FEATURES = ["income", "segment", "amount_sum_7d", "amount_count_7d"]
REFS: list[str | None] = [
    "profile:income",
    "profile:segment",
    "txn:amount_sum_7d",
    "txn:amount_count_7d",
]
LEVELS = ["a", "b", "c", "d"]


def train_booster(seed: int, rows: int = 600) -> lgb.Booster:
    """A binary booster where low income and high spending mean default."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.uniform(0, 50, rows),
            "segment": pd.Categorical(rng.choice(LEVELS, rows), categories=LEVELS),
            "amount_sum_7d": rng.uniform(0, 20, rows),
            "amount_count_7d": rng.integers(0, 5, rows).astype(float),
        }
    )
    logit = -0.15 * frame["income"] + 0.3 * frame["amount_sum_7d"] + (frame["segment"] == "d") * 1.5
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_threads": 1,
        "seed": seed,
        "min_data_in_leaf": 10,
    }
    return lgb.train(params, lgb.Dataset(frame, y), num_boost_round=30)


def scoring_model(booster: lgb.Booster, version: str = "1") -> ScoringModel:
    """The booster as serving sees it."""
    return ScoringModel(
        name="credit-default",
        version=version,
        booster=booster,
        features=FEATURES,
        refs=list(REFS),
        categories={"segment": LEVELS},
        references=split_references(booster),
    )


@dataclass
class FakeLoader:
    """A registry of ``ref -> version -> model``; ``down`` makes it unreachable."""

    models: dict[str, dict[str, ScoringModel]]
    aliases: dict[str, str] = field(default_factory=dict)
    down: bool = False
    loads: int = 0

    def resolve(self, ref: str) -> str:
        if self.down:
            raise ConnectionError("MLflow is unreachable")
        return self.aliases.get(ref, "1")

    def load(self, ref: str, version: str) -> ScoringModel:
        if self.down:
            raise ConnectionError("MLflow is unreachable")
        self.loads += 1
        return self.models[ref][version]
