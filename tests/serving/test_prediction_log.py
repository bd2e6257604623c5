"""The write-ahead staging file and its Parquet segments: round trip, recovery after a crash,
torn lines, never taking a live writer's file (not even one it has just created), and readers
that change nothing."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cairn.serving import prediction_log
from cairn.serving.log_records import PREDICTION_SCHEMA
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


class _ReaderInTheWindow:
    """``fcntl`` whose first blocking ``flock`` first lets a reader and recovery run: the moment
    between a writer creating its next staging file and locking it."""

    LOCK_EX, LOCK_NB, LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ran = False

    def flock(self, fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_EX and not self.ran:
            self.ran = True
            recover(self.directory, SCHEMA)
        fcntl.flock(fd, operation)


def test_recovery_between_creating_and_locking_a_staging_file_takes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = SegmentLog(tmp_path, SCHEMA, flush_ms=60_000)
    log.append({"id": "before", "n": 1})
    window = _ReaderInTheWindow(tmp_path)
    monkeypatch.setattr(prediction_log, "fcntl", window)
    log.flush()  # rotates: creates the next staging file, then locks it
    assert window.ran
    log.append({"id": "after", "n": 2})  # acknowledged into the new staging file
    monkeypatch.undo()
    log.close()
    assert _ids(tmp_path) == ["after", "before"]


def test_recovery_keeps_a_live_writers_partial_segment(tmp_path: Path) -> None:
    live = SegmentLog(tmp_path, SCHEMA)
    live.append({"id": "live", "n": 1})
    (staged,) = (tmp_path / "staging").glob("*.jsonl")
    partial = tmp_path / f".{staged.stem}.parquet.tmp"  # as if it were converting right now
    partial.write_bytes(b"PAR1")
    dead = tmp_path / ".1-dead-00000001.parquet.tmp"  # its converter died, its staging file gone
    dead.write_bytes(b"PAR1")
    recover(tmp_path, SCHEMA)
    assert partial.exists() and not dead.exists()
    partial.unlink()
    live.close()
    assert _ids(tmp_path) == ["live"]


def test_readers_never_change_the_log(tmp_path: Path) -> None:
    from cairn.serving.log_reader import query

    log_dir = tmp_path / ".cairn" / "predictions"
    staging = log_dir / "staging"
    staging.mkdir(parents=True)
    dead = staging / "999-deadbeef-00000001.jsonl"
    dead.write_bytes(orjson.dumps({"prediction_id": "p1"}) + b"\n")
    before = sorted(p.name for p in log_dir.rglob("*"))
    assert query(tmp_path, "SELECT count(*) FROM predictions").rows == [(0,)]
    assert sorted(p.name for p in log_dir.rglob("*")) == before
    SegmentLog(log_dir, PREDICTION_SCHEMA).close()  # a writer's start-up recovers it
    assert query(tmp_path, "SELECT prediction_id FROM predictions").rows == [("p1",)]


def test_an_unnamed_staging_file_is_recovered_only_when_old_and_unlocked(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    fresh, old = staging / ".1-a-00000001.jsonl.new", staging / ".1-b-00000001.jsonl.new"
    lost_rename = staging / ".1-c-00000001.jsonl.new"  # a power loss undid its rename
    fresh.touch()
    old.touch()
    lost_rename.write_bytes(orjson.dumps({"id": "kept", "n": 1}) + b"\n")
    for path in (old, lost_rename):
        os.utime(path, (1, 1))
    recover(tmp_path, SCHEMA)
    assert fresh.exists() and not old.exists() and not lost_rename.exists()
    assert _ids(tmp_path) == ["kept"]
