"""Compaction: closed hours merged into one file each, the swap seen whole by readers, replaced
files kept for a grace period, crashes leaving nothing half-done, and hand-placed files left
alone."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.serving.log_compaction import (
    MANIFEST,
    compact,
    live_segments,
    read_manifest,
)
from cairn.serving.prediction_log import SegmentLog

SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int64())])
HOUR = 3600.0
NOW = time.time()


def _write(directory: Path, ids: list[str], at: float) -> Path:
    """One writer's segment holding ``ids``, written ``at`` (its mtime)."""
    existing = set(directory.glob("*.parquet"))
    log = SegmentLog(directory, SCHEMA, maintain_s=0)
    for i in ids:
        log.append({"id": i, "n": 1})
    log.close()
    (segment,) = set(directory.glob("*.parquet")) - existing
    os.utime(segment, (at, at))
    return segment


def _read(directory: Path) -> list[str]:
    return sorted(i for p in live_segments(directory) for i in pq.read_table(p)["id"].to_pylist())


def _hours_ago(n: float) -> float:
    return NOW - NOW % HOUR - n * HOUR + 10


def test_closed_hours_merge_into_one_file_each_and_readers_see_the_same_rows(
    tmp_path: Path,
) -> None:
    for k in range(3):
        _write(tmp_path, [f"a{k}"], _hours_ago(2) + k)
        _write(tmp_path, [f"b{k}"], _hours_ago(1) + k)
    current = _write(tmp_path, ["c"], NOW)
    before = _read(tmp_path)
    # the two earlier hours are closed whatever the minute now (no wall-clock dependence)
    done = compact(tmp_path, SCHEMA, before=NOW - NOW % HOUR)
    assert len(done.merged) == 2 and done.replaced == 6 and done.deleted == 0
    assert _read(tmp_path) == before
    assert sorted(p.name for p in live_segments(tmp_path)) == sorted([*done.merged, current.name])
    assert len(list(tmp_path.glob("*.parquet"))) == 9  # replaced files stay for the grace period
    later = compact(tmp_path, SCHEMA, grace_s=0)
    assert later.deleted == 6 and later.merged == []
    assert len(list(tmp_path.glob("*.parquet"))) == 3
    assert _read(tmp_path) == before
    assert read_manifest(tmp_path).retired == {}


def test_a_late_segment_of_a_compacted_hour_is_merged_in(tmp_path: Path) -> None:
    for k in range(2):
        _write(tmp_path, [f"a{k}"], _hours_ago(2) + k)
    (first,) = compact(tmp_path, SCHEMA, grace_s=0).merged
    _write(tmp_path, ["late"], _hours_ago(2) + 100)
    (second,) = compact(tmp_path, SCHEMA, grace_s=0).merged
    assert first != second and [p.name for p in live_segments(tmp_path)] == [second]
    assert _read(tmp_path) == ["a0", "a1", "late"]


def test_a_crashed_compaction_leaves_nothing_readers_see(tmp_path: Path) -> None:
    for k in range(2):
        _write(tmp_path, [f"a{k}"], _hours_ago(2) + k)
    orphan = tmp_path / "compacted-20000101T00-00000007.parquet"  # renamed in, never committed
    pq.write_table(pa.table({"id": ["a0", "a1"], "n": [1, 1]}), orphan)
    partial = tmp_path / ".compacted-x.parquet.abcd1234.compact.parquet.tmp"
    partial.write_bytes(b"PAR1")
    assert _read(tmp_path) == ["a0", "a1"]
    compact(tmp_path, SCHEMA)
    assert not orphan.exists() and not partial.exists()
    assert _read(tmp_path) == ["a0", "a1"]


def test_a_reader_between_the_swap_steps_sees_each_row_once(tmp_path: Path) -> None:
    inputs = [_write(tmp_path, [f"a{k}"], _hours_ago(2) + k) for k in range(2)]
    seen = [p.name for p in live_segments(tmp_path)]
    compact(tmp_path, SCHEMA, grace_s=3600)
    (merged,) = read_manifest(tmp_path).merged
    assert sorted(seen) == sorted(p.name for p in inputs)
    assert all(p.exists() for p in inputs)  # a reader that listed them can still read them
    assert [p.name for p in live_segments(tmp_path)] == [merged]
    assert (tmp_path / MANIFEST).exists()


def test_hand_placed_files_and_old_schemas(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["demo"]}), tmp_path / "monitoring-demo-stable.parquet")
    old = _write(tmp_path, ["old"], _hours_ago(3))
    pq.write_table(pa.table({"id": ["old"]}), old)  # a segment from before column `n`
    os.utime(old, (_hours_ago(3), _hours_ago(3)))
    _write(tmp_path, ["new"], _hours_ago(3) + 1)
    (merged,) = compact(tmp_path, SCHEMA).merged
    assert pq.read_table(tmp_path / merged).to_pylist() == [
        {"id": "old", "n": None},
        {"id": "new", "n": 1},
    ]
    assert (tmp_path / "monitoring-demo-stable.parquet") in live_segments(tmp_path)
    assert _read(tmp_path) == ["demo", "new", "old"]


def test_compaction_recovers_a_dead_writers_staging_file(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "7-deadbeef-00000001.jsonl").write_bytes(orjson.dumps({"id": "x", "n": 1}) + b"\n")
    assert compact(tmp_path, SCHEMA).recovered == 1
    assert _read(tmp_path) == ["x"]


def test_a_busy_maintenance_lock_is_skipped_not_waited_for(tmp_path: Path) -> None:
    from cairn.serving.prediction_log import maintenance_lock

    with maintenance_lock(tmp_path) as held:
        assert held
        assert compact(tmp_path, SCHEMA, wait=False).skipped
