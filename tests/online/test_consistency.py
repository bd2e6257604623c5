"""Online equals offline: the value served for key k at t is the offline join for (k, t)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.online._project import REFS, offline_at, open_store, seconds, write_rows

KEYS = [1, 2, 3, 4]


def _same(a: Any, b: Any) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def assert_online_equals_offline(repo: Path, at: pd.Timestamp) -> None:
    store = open_store(repo)
    online = store.get_online_features(REFS, [{"k": k} for k in KEYS], at=at).to_dict()
    offline = offline_at(store, KEYS, at)
    for ref in REFS:
        name = ref.split(":")[1]
        for i, k in enumerate(KEYS):
            got, want = online[name][i], offline[name].iloc[i]
            assert _same(got, want), (
                f"{name} for key {k} at {at}: online {got!r} != offline {want!r}"
            )


_row = st.tuples(
    st.sampled_from(KEYS[:3]),  # key 4 never has data
    st.integers(0, 120),  # event second
    st.integers(0, 60),  # extra delay until known
    st.one_of(st.none(), st.integers(-5, 5).map(float)),  # x, with missing values
    st.integers(0, 3),
)


@settings(
    derandomize=True,
    max_examples=35,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(_row, max_size=25),
    cuts=st.lists(st.integers(1, 200), min_size=1, max_size=3, unique=True),
    read_after=st.integers(0, 30),
)
def test_incremental_materialization_matches_offline(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, int, int, float | None, int]],
    cuts: list[int],
    read_after: int,
) -> None:
    """Several incremental runs (late rows, corrections, ties, TTL and window edges), then a
    read at or after the last watermark with nothing new visible in between."""
    repo = tmp_path_factory.mktemp("consistency")
    (repo / "cairn.yaml").write_text("project: t\n")
    write_rows(repo, [(k, ev, ev + d, x, n) for k, ev, d, x, n in rows])
    store = open_store(repo)
    for cut in sorted(cuts):
        store.materialize_incremental(seconds(cut).to_pydatetime())
    end = seconds(max(cuts))
    # nothing becomes visible after the last watermark unless the read is later than it:
    # so read exactly at the watermark, or later only if no row becomes visible in between
    at = end + pd.Timedelta(seconds=read_after)
    if any(end < seconds(max(ev + 1e-6, ev + d)) <= at for _, ev, d, _, _ in rows):
        at = end
    assert_online_equals_offline(repo, at)
    shutil.rmtree(repo)


def test_a_report_that_compared_nothing_is_not_ok() -> None:
    from datetime import UTC, datetime

    from cairn.app.consistency import ConsistencyReport

    at = datetime(2026, 1, 1, tzinfo=UTC)
    nothing = ConsistencyReport("v", at, 3, {"a": 0}, compared={"a": 0}, both_null={"a": 3})
    assert not nothing.ok and nothing.verdict().startswith("nothing compared")
    one_sided = ConsistencyReport(
        "v", at, 3, {"a": 1}, compared={"a": 2}, both_null={"a": 0}, one_sided={"a": 1}
    )
    assert not one_sided.ok
    assert one_sided.verdict() == (
        "1 mismatches (2 values compared, 0 null on both sides, 1 null on one side only)"
    )
    agreed = ConsistencyReport("v", at, 3, {"a": 0}, compared={"a": 3})
    assert agreed.ok
