"""The write-ahead staging file and its Parquet segments: round trip, recovery after a crash,
torn lines, and never taking a live writer's file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.serving.prediction_log import SegmentLog, convert, recover

SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int64())])


def _ids(directory: Path) -> list[str]:
    rows: list[str] = []
    for path in sorted(directory.glob("*.parquet")):
        rows.extend(pq.read_table(path).column("id").to_pylist())
    return sorted(rows)


def test_records_flush_into_segments_on_count_and_close(tmp_path: Path) -> None:
    log = SegmentLog(tmp_path, SCHEMA, flush_records=3, flush_ms=10_000)
    log.start()
    for i in range(7):
        log.append({"id": f"r{i}", "n": i})
    log.close()
    assert _ids(tmp_path) == [f"r{i}" for i in range(7)]
    assert not list((tmp_path / "staging").iterdir())


def test_a_killed_writers_staging_file_is_recovered_without_its_torn_line(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    lines = [orjson.dumps({"id": f"a{i}", "n": i}) for i in range(3)]
    (staging / "999-dead-00000001.jsonl").write_bytes(b"\n".join(lines) + b'\n{"id": "a3", "n"')
    assert recover(tmp_path, SCHEMA) == 1
    assert _ids(tmp_path) == ["a0", "a1", "a2"]
    assert recover(tmp_path, SCHEMA) == 0


def test_recovery_leaves_a_live_writers_file_alone(tmp_path: Path) -> None:
    live = SegmentLog(tmp_path, SCHEMA)
    live.append({"id": "live", "n": 1})
    assert recover(tmp_path, SCHEMA) == 0  # the writer holds its lock
    assert _ids(tmp_path) == []
    live.close()
    assert _ids(tmp_path) == ["live"]


def test_a_crash_after_the_segment_rename_does_not_duplicate(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    staged = staging / "1-x-00000001.jsonl"
    staged.write_bytes(orjson.dumps({"id": "once", "n": 1}) + b"\n")
    convert(staged, tmp_path, SCHEMA)
    staged.write_bytes(orjson.dumps({"id": "once", "n": 1}) + b"\n")  # as if never deleted
    recover(tmp_path, SCHEMA)
    assert _ids(tmp_path) == ["once"] and not staged.exists()


def test_an_acknowledged_append_is_in_the_file_before_any_flush(tmp_path: Path) -> None:
    log = SegmentLog(tmp_path, SCHEMA, durability="fsync", flush_ms=60_000)
    log.append({"id": "acked", "n": 1})
    log.sync()
    (staged,) = (tmp_path / "staging").glob("*.jsonl")
    assert orjson.loads(staged.read_bytes()) == {"id": "acked", "n": 1}
    fd = os.open(staged, os.O_RDONLY)
    try:  # still locked by the writer
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = False
        except BlockingIOError:
            locked = True
    finally:
        os.close(fd)
    assert locked
    log.close()
