"""ReferenceProfile reads the training profile format (and the quality one) and builds one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cairn.core.errors import DataError
from cairn.monitoring import CategoricalReference, NumericReference, ReferenceProfile, compute_drift
from cairn.quality.profile import profile_reference
from cairn.training.profile import reference_profile


def _frame(seed: int, n: int = 5_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(3000, 500, n)
    income[:50] = np.nan
    return pd.DataFrame(
        {
            "income": income,
            "children": rng.integers(0, 4, n).astype(float),  # ties on every edge
            "job": rng.choice(["fixed", "temp", "self"], n),
            "score": rng.random(n),
        }
    )


def test_build_uses_the_training_code_and_round_trips(global_random_seed: int) -> None:
    frame = _frame(global_random_seed)
    profile = ReferenceProfile.build(frame, categorical={"job"}, score_column="score", seed=3)
    raw = reference_profile(
        frame.drop(columns="score"), frame["score"].to_numpy(), categorical={"job"},
        sample=10_000, seed=3, rows="reference",
    )  # fmt: skip
    assert ReferenceProfile.from_dict(raw).to_dict() == {
        **profile.to_dict(),
        "reference_rows": "reference",
    }
    again = ReferenceProfile.from_dict(profile.to_dict())
    assert again.to_dict() == profile.to_dict()
    income = profile.features["income"]
    assert isinstance(income, NumericReference)
    assert income.counts.sum() + income.missing_count == income.rows == len(frame)
    assert income.missing_count == 50 and income.sample.size == len(frame) - 50
    assert np.all(np.diff(income.sample) >= 0) and income.std == pytest.approx(
        np.nanstd(frame["income"]), rel=1e-9
    )
    assert profile.score is not None and income.binning.closed == "left"
    children = profile.features["children"]
    assert isinstance(children, NumericReference) and children.binning.by_value
    assert profile.kinds() == {"income": "numeric", "children": "numeric", "job": "categorical"}


def test_a_profile_without_counts_recovers_them_from_shares(global_random_seed: int) -> None:
    frame = _frame(global_random_seed)
    full = ReferenceProfile.build(frame, categorical={"job"}, score_column="score").to_dict()
    old = _strip(full, {"counts", "missing_count", "other_count", "distinct"})
    profile = ReferenceProfile.from_dict(old)
    for name, ref in ReferenceProfile.from_dict(full).features.items():
        assert profile.features[name].counts.tolist() == ref.counts.tolist()
        assert profile.features[name].missing_count == ref.missing_count


@pytest.mark.parametrize("fmt", ["training", "quality"])
def test_the_reference_against_itself_has_zero_psi_whoever_built_it(
    fmt: str, global_random_seed: int
) -> None:
    frame = _frame(global_random_seed).drop(columns="score")
    if fmt == "training":
        profile = ReferenceProfile.build(frame, categorical={"job"})
    else:
        profile = ReferenceProfile.from_dict(profile_reference(frame, bins=10))
    report = compute_drift(profile, frame, score_column=None)
    for f in report.features:
        assert f.status == "ok" and f.psi == 0.0, f.feature
        assert f.chi2_p_value == pytest.approx(1.0)


def test_top_k_keeps_categorical_references_bounded(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    codes = pd.Series([f"m{i}" for i in rng.zipf(1.3, 20_000) % 5_000])
    profile = ReferenceProfile.build(
        pd.DataFrame({"m": codes}), categorical={"m"}, top_k=7, sample=300
    )
    ref = profile.features["m"]
    assert isinstance(ref, CategoricalReference)
    assert len(ref.categories) == 7 and len(ref.sample) == 300
    assert ref.counts.sum() + ref.other_count == 20_000 and ref.distinct == codes.nunique()
    assert ref.counts.tolist() == codes.value_counts().head(7).tolist()


def test_the_sample_is_bounded_and_seeded() -> None:
    frame = pd.DataFrame({"x": np.arange(50_000, dtype=float)})
    a = ReferenceProfile.build(frame, categorical=set(), sample=1_000, seed=1)
    b = ReferenceProfile.build(pa.Table.from_pandas(frame), categorical=set(), sample=1_000, seed=1)
    c = ReferenceProfile.build(frame, categorical=set(), sample=1_000, seed=2)
    xa, xb, xc = (_numeric(p).sample for p in (a, b, c))
    assert xa.size == 1_000 and np.array_equal(xa, xb) and not np.array_equal(xa, xc)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ([], "JSON object"),
        ({"rows": 3}, "needs 'columns'"),
        ({"features": {"x": {"kind": "text", "rows": 1}}}, "kind must be"),
        ({"features": {"x": {"kind": "numeric", "rows": -1}}}, "'rows' must be"),
        (
            {
                "features": {
                    "x": {"kind": "numeric", "rows": 2, "edges": [1.0], "proportions": [1.0]}
                }
            },
            "one count per bin",
        ),
        ({"features": {}, "score": {"kind": "categorical", "rows": 1}}, "score must be numeric"),
    ],
)
def test_bad_profiles_name_the_problem(profile: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        ReferenceProfile.from_dict(profile)


def test_build_rejects_bad_input() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    with pytest.raises(DataError, match="score_column 'score' is not a column"):
        ReferenceProfile.build(frame, categorical={"c"}, score_column="score")
    with pytest.raises(DataError, match="'c' is .*not numeric; list it in categorical"):
        ReferenceProfile.build(frame, categorical=set())
    with pytest.raises(DataError, match="categorical column.*nope"):
        ReferenceProfile.build(frame, categorical={"c", "nope"})
    with pytest.raises(DataError, match="bins must be at least 2"):
        ReferenceProfile.build(frame, categorical={"c"}, bins=1)


def _numeric(profile: ReferenceProfile) -> NumericReference:
    ref = profile.features["x"]
    assert isinstance(ref, NumericReference)
    return ref


def _strip(obj: Any, keys: set[str]) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v, keys) for k, v in obj.items() if k not in keys}
    return obj
