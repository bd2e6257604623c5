"""Split, metrics, features, reference profile and quality checks on exact data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cairn.core.errors import DataError
from cairn.profiles import NumericReference
from cairn.training import FeatureFrame, check_training_set, evaluate, time_split
from cairn.training.profile import reference_profile


def test_time_split_holds_out_the_latest_rows_and_keeps_ties_together() -> None:
    times = pd.Series(pd.to_datetime([f"2026-01-0{d}" for d in (5, 1, 3, 3, 2)], utc=True))
    s = time_split(times, 0.4)
    # the two latest rows are 01-05 and one 01-03: both 01-03 rows go to validation
    assert s.validation.tolist() == [0, 2, 3] and s.train.tolist() == [1, 4]
    assert s.train_end < s.cutoff <= s.validation_start
    with pytest.raises(DataError, match="leaves no training rows"):
        time_split(pd.Series(pd.to_datetime(["2026-01-01"] * 4, utc=True)), 0.2)


def test_metrics_match_their_definitions(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    y = rng.integers(0, 2, 2000)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, 2000), 0, 1)
    m = evaluate(y, score, threshold=0.5)
    ks = stats.ks_2samp(score[y == 1], score[y == 0]).statistic
    assert m["ks"] == pytest.approx(ks, abs=1e-12)
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1)
    predicted = score >= 0.5
    assert m["precision"] == pytest.approx((predicted & (y == 1)).sum() / predicted.sum())
    assert m["recall"] == pytest.approx((predicted & (y == 1)).sum() / (y == 1).sum())
    assert m["brier"] == pytest.approx(np.mean((score - y) ** 2))
    with pytest.raises(DataError, match="need both classes"):
        evaluate(np.zeros(5, dtype=int), np.linspace(0, 1, 5))


def test_feature_frame_fixes_categories_from_training_rows() -> None:
    train = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "c": ["b", "a", None]})
    ff = FeatureFrame.fit(train, ["n", "c"])
    later = ff.transform(pd.DataFrame({"n": [2.5], "c": ["z"]}))
    assert ff.categories == {"c": ["a", "b"]}
    assert later["n"].dtype == np.float64 and later["c"].isna().all()
    assert list(later["c"].cat.categories) == ["a", "b"]
    assert np.isnan(ff.transform(train)["n"].iloc[1])
    with pytest.raises(DataError, match="lacks the feature column"):
        ff.transform(pd.DataFrame({"n": [1]}))


def test_reference_profile_bins_cover_every_row(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    values = rng.normal(size=1000)
    values[:50] = np.nan
    p = NumericReference.build(values, bins=10, sample=100, seed=0).to_dict()
    assert len(p["edges"]) == 9 and len(p["proportions"]) == 10
    assert sum(p["proportions"]) + p["missing"] == pytest.approx(1.0)
    assert p["missing"] == pytest.approx(0.05) and len(p["sample"]) == 100
    # each bin holds a tenth of the present values (quantile edges)
    assert all(abs(x - 0.095) < 0.002 for x in p["proportions"])
    X = pd.DataFrame({"x": values, "c": pd.Categorical(rng.choice(["a", "b"], 1000))})
    full = reference_profile(X, rng.random(1000), categorical={"c"}, bins=5, sample=10)
    assert full["columns"]["c"]["kind"] == "categorical"
    assert sum(full["columns"]["c"]["proportions"]) == pytest.approx(1.0)
    assert len(full["score"]["edges"]) == 4 and full["score"]["closed"] == "left"


def test_quality_checks_fail_and_warn() -> None:
    frame = pd.DataFrame({"y": [0] * 15 + [1] * 10, "x": [None] * 25, "k": [1.0] * 25})
    report = check_training_set(
        frame, "y", ["x", "k"], train_rows=range(15), validation_rows=range(15, 25)
    )
    failed = {c.name for c in report.failures}
    assert failed == {"both_classes:train", "both_classes:validation", "feature_missing_share:x"}
    assert any(c.name == "feature_constant:k" and c.level == "warn" for c in report.checks)
    with pytest.raises(DataError, match=r"failed 3 check\(s\): both_classes:train"):
        report.raise_for_failures("train.yaml")
    bad = pd.DataFrame({"y": [0, 1, 2] * 10, "x": range(30)})
    labels = check_training_set(
        bad, "y", ["x"], train_rows=range(20), validation_rows=range(20, 30)
    )
    assert {c.name for c in labels.failures} == {"label_binary"}


def test_sklearn_estimator_without_categorical_support_names_the_text_features() -> None:
    from cairn.core.errors import ConfigError
    from cairn.training import ModelSpec
    from cairn.training.estimators import fit_model

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "income": rng.normal(size=60),
            "home": pd.Categorical(
                rng.choice(["own", "rent"], size=60), categories=["own", "rent"]
            ),
        }
    )
    y = (X["income"] > 0).astype(int).to_numpy()
    spec = ModelSpec(kind="sklearn", estimator="sklearn.ensemble.RandomForestClassifier")
    with pytest.raises(ConfigError, match=r"train\.yaml: model\.estimator .* text features home"):
        fit_model(spec, X, y, X, y, seed=0, where="train.yaml")
