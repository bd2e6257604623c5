"""Property: whatever order files land in and whatever created times their rows carry (behind
the watermark or ahead of it), after every incremental run the online values equal the offline
point-in-time join at the run's end (a row is materialized by the first run that can see it)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.online.test_late_rows import Row, at, open_store, values, write_file

ROW = st.tuples(
    st.integers(1, 4),
    st.integers(0, 90).map(float),
    st.integers(0, 120).map(float),
    st.integers(-5, 5).map(float),
).map(lambda r: (r[0], r[1], max(r[1], r[2]), r[3]))
FILES = st.lists(st.lists(ROW, min_size=1, max_size=6), min_size=1, max_size=4)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(files=FILES, ends=st.lists(st.integers(40, 130), min_size=4, max_size=4))
def test_online_equals_offline_after_every_run(files: list[list[Row]], ends: list[int]) -> None:
    repo = Path(tempfile.mkdtemp(prefix="cairn-late-"))
    try:
        (repo / "cairn.yaml").write_text("project: test\n")
        write_file(repo, "part-0.parquet", files[0], 1_000)
        store = open_store(repo, None)
        end = 0
        for i, rows in enumerate(files):
            if i:
                write_file(repo, f"part-{i}.parquet", rows, 1_000 + i)
            end = max(end, ends[i])  # the watermark only moves forward
            store.materialize_incremental(at(end).to_pydatetime())
            online_values, offline_values = values(store, [1, 2, 3, 4], end)
            assert online_values == offline_values
    finally:
        shutil.rmtree(repo, ignore_errors=True)
