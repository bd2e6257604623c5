"""One builder, one stored format, old formats still read; quality and monitoring agree."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.monitoring import compute_drift
from cairn.profiles import (
    FORMAT,
    VERSION,
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
    load_profile,
)
from cairn.quality import Check, Suite, profile_reference, validate

DATA = Path(__file__).resolve().parent / "data"


def _quality_psi(profile: dict[str, object], frame: pd.DataFrame, column: str) -> float:
    check = Check("expect_column_psi_to_be_less_than", {"column": column, "reference": "p"})
    observed = validate(Suite("s", [check]), frame, references={"p": profile}).checks[0].observed
    assert observed is not None
    return float(observed)


def test_training_profiles_of_version_1_still_read() -> None:
    """Right-closed bins, categories as a mapping, the label as ``positive_rate``."""
    raw = json.loads((DATA / "training_v1.json").read_text())
    assert "features" in raw and raw["version"] == 1
    profile = ReferenceProfile.from_dict(raw)
    income = profile.column("income")
    assert isinstance(income, NumericReference) and income.binning.closed == "right"
    assert income.counts.tolist() == raw["features"]["income"]["counts"]
    job = profile.column("job")
    assert isinstance(job, CategoricalReference) and set(job.categories) == {
        "fixed",
        "temp",
        "self",
    }
    assert profile.score is not None and profile.label is not None
    assert profile.label["rate"] == raw["label"]["positive_rate"]
    frame = pd.read_csv(DATA / "reference.csv")
    report = compute_drift(profile, frame, score_column=None)
    assert [f.status for f in report.features] == ["ok"] * 3
    assert report.feature("income").psi == pytest.approx(0.0, abs=1e-12)  # its own data
    stored = profile.to_dict()  # read once, written in the current format
    assert stored["format"] == FORMAT and stored["version"] == VERSION
    assert ReferenceProfile.from_dict(stored).to_dict() == stored


def test_quality_profiles_of_version_1_still_read() -> None:
    raw = load_profile(DATA / "quality_v1.json")
    assert raw["version"] == 1 and raw["columns"]["income"]["type"] == "numeric"
    profile = ReferenceProfile.from_dict(raw)
    income = profile.column("income")
    assert isinstance(income, NumericReference) and income.binning.closed == "left"
    assert profile.label is not None and profile.label["column"] == "defaulted"
    frame = pd.read_csv(DATA / "reference.csv")
    frame["defaulted"] = [0, 1, 0, 0, 0] * 80
    for column in ("income", "children", "job"):
        assert _quality_psi(raw, frame, column) == pytest.approx(0.0, abs=1e-9), column
    check = Check("expect_label_rate_to_be_stable", {"column": "defaulted", "reference": "p"})
    assert validate(Suite("s", [check]), frame, references={"p": raw}).checks[0].success


def test_training_quality_and_monitoring_build_the_same_profile(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA / "reference.csv")
    frame["ok"] = np.arange(len(frame)) % 3 == 0
    quality = ReferenceProfile.from_dict(profile_reference(frame, sample_size=50))
    built = ReferenceProfile.build(frame, categorical={"job"}, sample=50)
    for name, ref in built.features.items():
        theirs = quality.column(name)
        assert type(theirs) is type(ref), name
        assert theirs.counts.tolist() == ref.counts.tolist(), name
        if isinstance(ref, NumericReference):
            assert isinstance(theirs, NumericReference)
            assert theirs.binning.to_dict() == ref.binning.to_dict()
    ok = built.column("ok")  # booleans are categories, named as SQL prints them
    assert isinstance(ok, CategoricalReference) and ok.categories == ("false", "true")
    path = built.save(tmp_path / "p.json")
    assert ReferenceProfile.load(path).to_dict() == built.to_dict()


columns = st.lists(
    st.one_of(
        st.none(),
        st.sampled_from([-1.0, 0.0, 1.0, 99.0]),
        st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: round(v, 2)),
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=40, deadline=None)
@given(ref=columns, cur=columns, bins=st.integers(2, 10))
def test_quality_and_monitoring_give_the_same_psi(
    ref: list[float | None], cur: list[float | None], bins: int
) -> None:
    def frame(values: list[float | None]) -> pd.DataFrame:
        return pd.DataFrame({"x": pd.array(values, dtype="Float64")})

    stored = profile_reference(frame(ref), bins=bins)
    monitored = compute_drift(ReferenceProfile.from_dict(stored), frame(cur), score_column=None)
    drift = monitored.feature("x")
    if drift.status == "ok":
        assert _quality_psi(stored, frame(cur), "x") == drift.psi


def test_arrow_and_pandas_build_the_same_profile() -> None:
    frame = pd.read_csv(DATA / "reference.csv")
    a = ReferenceProfile.build(frame, categorical={"job"}, sample=20)
    b = ReferenceProfile.build(pa.Table.from_pandas(frame), categorical={"job"}, sample=20)
    for name, ref in a.features.items():
        theirs = b.column(name)
        assert theirs.counts.tolist() == ref.counts.tolist(), name
        assert np.array_equal(np.asarray(theirs.sample), np.asarray(ref.sample)), name
