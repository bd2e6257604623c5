"""Online reads: bad input gives one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.core.errors import EntityDataFrameError, UnknownFeatureError
from tests.online._project import open_store, seconds, write_rows


@pytest.fixture
def store(repo: Path):  # type: ignore[no-untyped-def]
    write_rows(repo, [(1, 10, 10, 1.0, 1)])
    s = open_store(repo)
    s.materialize_incremental(seconds(20).to_pydatetime())
    return s


@pytest.mark.parametrize(
    ("features", "rows", "error", "message"),
    [
        (["snap:nope"], [{"k": 1}], UnknownFeatureError, "has no feature 'nope'"),
        (["nope:x"], [{"k": 1}], UnknownFeatureError, "names the view 'nope'"),
        (["snap:x"], [{"key": 1}], EntityDataFrameError, "missing the join key 'k'"),
        (["snap:x"], [{"k": "1"}], EntityDataFrameError, "must be an integer; got str '1'"),
        (["snap:x"], [{"k": True}], EntityDataFrameError, "must be an integer; got bool"),
        (["snap:x"], "k=1", EntityDataFrameError, "must be a list of dicts"),
        (["snap:x"], [5], EntityDataFrameError, r"entity_rows\[0\] must be a dict"),
        (["snap:x"], {"k": [1], "j": [1, 2]}, EntityDataFrameError, "equal lengths"),
    ],
)
def test_bad_reads(store, features, rows, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        store.get_online_features(features, rows, at=seconds(20))


def test_full_feature_names(store) -> None:  # type: ignore[no-untyped-def]
    out = store.get_online_features(
        ["snap:x", "win:x_sum_60s"], [{"k": 1}], full_feature_names=True, at=seconds(20)
    ).to_dict()
    assert out["snap__x"] == [1.0] and out["win__x_sum_60s"] == [1.0]


def test_columns_follow_the_request_order(store) -> None:  # type: ignore[no-untyped-def]
    refs = ["win:x_sum_60s", "snap:x", "win:x_count_30s", "snap:tag"]
    out = store.get_online_features(refs, [{"k": 1}], at=seconds(20)).to_dict()
    assert list(out) == ["k", "x_sum_60s", "x", "x_count_30s", "tag", "found"]
