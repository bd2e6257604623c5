"""Reference profiles: edges, proportions, sample, label, and the JSON artifact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cairn.core.errors import DataError
from cairn.quality import load_profile, profile_reference, save_profile


@pytest.fixture
def data(global_random_seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(global_random_seed)
    n = 5000
    amount = rng.lognormal(5, 1, n)
    amount[rng.choice(n, 50, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "term": rng.choice([12, 24, 36], n),
            "home": rng.choice(
                np.array(["rent", "own", None], dtype=object), n, p=[0.6, 0.39, 0.01]
            ),
            "online": rng.random(n) < 0.3,
            "y": (rng.random(n) < 0.2).astype(int),
            "ts": pd.Timestamp("2026-01-01", tz="UTC"),
        }
    )


def test_numeric_and_categorical_columns(data: pd.DataFrame, tmp_path: Path) -> None:
    profile = profile_reference(data, label="y", sample_size=100, seed=3)
    assert set(profile["columns"]) == {"amount", "term", "home", "online"}
    amount = profile["columns"]["amount"]
    present = data["amount"].dropna().to_numpy()
    assert amount["edges"] == pytest.approx(np.quantile(present, np.arange(1, 10) / 10))
    assert amount["binning"] == "quantile" and profile["columns"]["term"]["binning"] == "value"
    assert len(amount["proportions"]) == 10
    assert sum(amount["proportions"]) + amount["missing"] == pytest.approx(1.0)
    assert amount["missing"] == pytest.approx(0.01)
    home = profile["columns"]["home"]
    assert home["categories"] == ["rent", "own"] and home["other"] == 0.0
    assert sum(home["proportions"]) + home["missing"] == pytest.approx(1.0)
    assert profile["columns"]["online"]["categories"] == ["false", "true"]
    assert len(amount["sample"]) == 100 and not np.isnan(amount["sample"]).any()
    assert profile["label"]["rate"] == pytest.approx(data["y"].mean())
    again = profile_reference(data, label="y", sample_size=100, seed=3)
    assert again["columns"]["amount"]["sample"] == amount["sample"]  # deterministic
    path = save_profile(profile, tmp_path / "ref" / "p.json")
    assert load_profile(path)["columns"] == profile["columns"]


def test_rare_categories_beyond_the_cap_count_as_unseen() -> None:
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c", "d"]})
    c = profile_reference(frame, max_categories=2)["columns"]["c"]
    assert (c["categories"], c["other"]) == (["a", "b"], pytest.approx(0.2))


def test_profile_errors(data: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no rows"):
        profile_reference(data.iloc[:0])
    with pytest.raises(DataError, match="column 'ts' is TIMESTAMP WITH TIME ZONE"):
        profile_reference(data, ["ts"])
    with pytest.raises(DataError, match="column 'nope' is not in the data"):
        profile_reference(data, ["nope"])
    with pytest.raises(DataError, match="label 'nope' is not a column"):
        profile_reference(data, label="nope")
    with pytest.raises(DataError, match="bins must be at least 2"):
        profile_reference(data, bins=1)
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(DataError, match="not a Cairn reference profile"):
        load_profile(tmp_path / "x.json")
