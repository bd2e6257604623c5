"""Honest validation: time-ordered parts, labels known in time, warnings when parts differ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import ConfigError, DataError
from cairn.training import (
    SplitSpec,
    SplitWarnings,
    TrainConfig,
    cutoff_split,
    known_labels,
    split_rows,
    split_warnings,
    time_split,
)
from cairn.training.split_checks import feature_psi, label_rate_warning

DAY_US = 86_400 * 1_000_000
BASE = {
    "model_name": "m",
    "entities": "SELECT 1",
    "label": "y",
    "features": ["v:x"],
}


def _times(offsets: list[int]) -> pd.Series:
    return pd.Series(pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(offsets, unit="h"))


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 2_000), min_size=3, max_size=300),
    validation=st.floats(0.05, 0.45),
    test=st.floats(0.0, 0.45),
)
def test_parts_never_overlap_in_time(offsets: list[int], validation: float, test: float) -> None:
    times = _times(offsets)
    try:
        split = time_split(times, validation, test=test)
    except DataError:
        return  # ties leave a part empty: refused, never overlapping
    t = times.to_numpy()
    train, valid, held = t[split.train], t[split.validation], t[split.test]
    assert train.max() < valid.min()
    if len(held):
        assert valid.max() < held.min() and split.reported == "test"
    else:
        assert test == 0 and split.reported == "validation"
    together = np.sort(np.concatenate([split.train, split.validation, split.test]))
    assert together.tolist() == list(range(len(offsets)))  # every row in exactly one part


@settings(max_examples=100, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 1_000), min_size=3, max_size=200),
    first=st.integers(1, 999),
    gap=st.integers(1, 500),
)
def test_cutoff_times_split_at_those_times(offsets: list[int], first: int, gap: int) -> None:
    times = _times(offsets)
    start = pd.Timestamp("2025-01-01", tz="UTC")
    valid_from, test_from = (
        start + pd.Timedelta(hours=first),
        start + pd.Timedelta(hours=first + gap),
    )
    try:
        split = cutoff_split(times, valid_from, test_from)
    except DataError:
        return
    assert (times.iloc[split.train] < valid_from).all()
    assert (times.iloc[split.validation] >= valid_from).all()
    assert (times.iloc[split.validation] < test_from).all()
    assert (times.iloc[split.test] >= test_from).all()


def test_the_old_validation_fraction_still_splits_in_two() -> None:
    cfg = TrainConfig.from_mapping({**BASE, "validation_fraction": 0.25})
    assert cfg.split is None and cfg.parts == SplitSpec(validation=0.25, test=0.0)
    split = split_rows(cfg.parts, _times(list(range(8))))
    assert split.train.tolist() == list(range(6)) and split.validation.tolist() == [6, 7]
    assert len(split.test) == 0 and split.reported == "validation"
    assert "split" not in cfg.to_dict() and cfg.to_dict()["validation_fraction"] == 0.25


def test_split_config_round_trips_and_rejects_bad_input() -> None:
    cfg = TrainConfig.from_mapping(
        {**BASE, "split": {"validation": 0.1, "test": 0.2}, "label_maturity": "90d"}
    )
    assert cfg.parts == SplitSpec(0.1, 0.2) and cfg.label_maturity == 90 * DAY_US
    assert TrainConfig.from_mapping(cfg.to_dict()) == cfg
    dated = TrainConfig.from_mapping(
        {**BASE, "split": {"validation_from": "2025-03-01", "test_from": "2025-05-01"}}
    )
    split = split_rows(dated.parts, _times([0, 24 * 70, 24 * 100, 24 * 130]))
    assert (split.train.tolist(), split.validation.tolist(), split.test.tolist()) == (
        [0], [1, 2], [3],
    )  # fmt: skip
    cases: list[tuple[dict[str, object], str]] = [
        ({"validation_fraction": 0.2, "split": {}}, "split replaces validation_fraction"),
        ({"split": {"validation": 0.5, "test": 0.5}}, "split.test must leave rows to train"),
        ({"split": {"test_from": "2025-01-01"}}, "test_from needs validation_from"),
        ({"split": {"validation_from": "soon"}}, "validation_from must be an ISO date"),
        ({"label_maturity": "90d", "label_available_at": "k"}, "label_maturity cannot be"),
        ({"label_maturity": "ninety days"}, "label_maturity must be a duration"),
    ]
    for bad, message in cases:
        with pytest.raises(ConfigError, match=message):
            TrainConfig.from_mapping({**BASE, **bad})


def test_labels_known_only_after_the_cutoff_are_not_trained_on() -> None:
    times = _times([24 * d for d in range(10)])  # one row a day
    known_after = times + pd.to_timedelta([1, 1, 1, 30, 30, 1, 1, 2, 1, 1], unit="D")
    frame = pd.DataFrame({"event_timestamp": times, "known": known_after})
    frame.loc[9, "known"] = pd.NaT  # the newest label is not known yet
    split = time_split(frame["event_timestamp"], 0.3, test=0.2)  # train 0-4, valid 5-7, test 8-9
    kept, timing = known_labels(frame, split, available_at="known")
    assert kept.train.tolist() == [0, 1, 2]  # rows 3 and 4: labels known a month later
    assert kept.validation.tolist() == [5, 6]  # row 7's label arrives after the test cutoff
    assert kept.test.tolist() == [8]
    assert timing.dropped == {"train": 2, "validation": 1, "test": 1} and timing.total == 4
    assert kept.train_end == times[2].to_pydatetime()
    two_way = time_split(frame["event_timestamp"], 0.5)  # train 0-4, validation 5-9
    by_maturity, matured = known_labels(frame, two_way, maturity=2 * DAY_US)
    assert by_maturity.train.tolist() == [0, 1, 2, 3] and matured.dropped == {
        "train": 1,
        "validation": 0,
    }
    with pytest.raises(DataError, match="no validation row has a label known in time"):
        known_labels(frame, split, maturity=4 * DAY_US)  # validation labels mature after day 8
    with pytest.raises(ConfigError, match="label_available_at 'nope' is not a column"):
        known_labels(frame, split, available_at="nope")
    with pytest.raises(DataError, match="no train row has a label known in time"):
        known_labels(frame, split, maturity=400 * DAY_US)


def test_the_label_rate_warning_fires_for_6_5_vs_20_2_percent() -> None:
    y = pd.Series(np.r_[np.ones(130), np.zeros(1870), np.ones(101), np.zeros(399)].astype(int))
    train, valid = np.arange(2000), np.arange(2000, 2500)  # 6.5 % vs 20.2 %
    warning = label_rate_warning(y, "y", ("train", train), ("validation", valid), SplitWarnings())
    assert warning is not None and warning.kind == "label_rate"
    assert warning.value == pytest.approx(0.202 / 0.065) and warning.p_value is not None
    assert "6.5% in the train rows" in warning.message and "20.2%" in warning.message
    same = pd.Series(np.r_[np.ones(130), np.zeros(1870), np.ones(33), np.zeros(467)].astype(int))
    assert (
        label_rate_warning(same, "y", ("train", train), ("validation", valid), SplitWarnings())
        is None
    )
    tiny = pd.Series([1, 0, 0, 0, 0, 1, 1, 0])  # ratio 2 but 4 rows a side: the z-test says no
    assert (
        label_rate_warning(tiny, "y", ("a", np.arange(4)), ("b", np.arange(4, 8)), SplitWarnings())
        is None
    )


def test_feature_shifts_warn_by_the_profiles_psi() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "event_timestamp": pd.date_range("2025-01-01", periods=n, freq="h", tz="UTC"),
            "y": rng.integers(0, 2, n),
            "steady": rng.normal(size=n),
            "moved": np.r_[rng.normal(size=2000), rng.normal(2, 1, 1000)],
            "flag": np.r_[rng.random(2000) < 0.967, rng.random(1000) < 0.343].astype(float),
            "home": np.r_[rng.choice(["own", "rent"], 2000), np.full(1000, "rent")],
        }
    )
    split = time_split(frame["event_timestamp"], 1 / 3)
    warned = split_warnings(frame, "y", ["steady", "moved", "flag", "home"], split, SplitWarnings())
    assert {w.subject for w in warned if w.kind == "feature_psi"} == {"moved", "flag", "home"}
    assert feature_psi(frame["steady"], frame["steady"]) == 0.0
    assert feature_psi(frame["home"], frame["home"]) == 0.0
    relaxed = SplitWarnings(feature_psi=100.0)
    assert split_warnings(frame, "y", ["moved"], split, relaxed) == []
