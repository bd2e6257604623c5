"""Materialization: late rows, guarded writes, idempotent re-runs, resuming a killed run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from cairn import FeatureStore
from cairn.core.online import SnapshotRecord, TileRecord
from cairn.core.types import Micros
from cairn.online import SqliteOnlineStore
from cairn.online import materialize as materialize_module
from tests.online._project import REFS, SNAPSHOT, WINDOWED, open_store, seconds, write_rows


def _x(store: FeatureStore, at: float, key: int = 1) -> object:
    return store.get_online_features(["snap:x"], [{"k": key}], at=seconds(at)).to_dict()["x"][0]


def test_late_row_is_picked_up_by_the_next_incremental_run(repo: Path) -> None:
    write_rows(repo, [(1, 10, 10, 1.0, 1)])
    store = open_store(repo)
    store.materialize_incremental(seconds(20).to_pydatetime())
    assert _x(store, 20) == 1.0
    # a row for event time 15 lands at 25: after the first watermark, before the second
    write_rows(repo, [(1, 10, 10, 1.0, 1), (1, 15, 25, 2.0, 1)])
    results = store.materialize_incremental(seconds(30).to_pydatetime())
    assert {r.view for r in results} == {"snap", "win"}
    assert _x(store, 30) == 2.0
    sums = store.get_online_features(["win:x_sum_60s"], [{"k": 1}], at=seconds(30)).to_dict()
    assert sums["x_sum_60s"] == [3.0]


def test_older_event_arriving_later_never_replaces_a_newer_value(repo: Path) -> None:
    write_rows(repo, [(1, 50, 50, 5.0, 1)])
    store = open_store(repo)
    store.materialize_incremental(seconds(60).to_pydatetime())
    write_rows(repo, [(1, 50, 50, 5.0, 1), (1, 20, 70, 2.0, 1)])  # old event, known late
    store.materialize_incremental(seconds(80).to_pydatetime())
    assert _x(store, 80) == 5.0


def test_rerun_writes_nothing_new(repo: Path) -> None:
    write_rows(repo, [(1, 10, 10, 1.0, 1), (2, 12, 13, 2.0, 1)])
    store = open_store(repo)
    first = store.materialize_incremental(seconds(30).to_pydatetime())
    assert sum(r.records + r.tiles for r in first) > 0
    assert store.materialize_incremental(seconds(30).to_pydatetime()) == []
    again = store.materialize(seconds(0).to_pydatetime(), seconds(30).to_pydatetime())
    assert sum(r.records for r in again) == 0  # guarded: equal orders are not rewritten


def test_ttl_is_enforced_at_read_time(repo: Path) -> None:
    write_rows(repo, [(1, 10, 10, 1.0, 1)])
    store = open_store(repo)
    store.materialize_incremental(seconds(11).to_pydatetime())
    assert _x(store, 50) == 1.0  # event 10 >= 50 - 40 (edge inclusive)
    assert _x(store, 50.000001) is None


def test_events_fall_out_of_the_window_without_rewrites(repo: Path) -> None:
    write_rows(repo, [(1, 5, 5, 1.0, 1), (1, 25, 25, 2.0, 1)])
    store = open_store(repo)
    store.materialize_incremental(seconds(30).to_pydatetime())
    ref = ["win:x_count_30s"]
    counts = [
        store.get_online_features(ref, [{"k": 1}], at=seconds(t)).to_dict()["x_count_30s"][0]
        for t in (30, 39.9, 40, 59.9, 60)
    ]
    # window at t: [floor(t, 10s) - 30s, t)
    assert counts == [2, 2, 1, 1, 0]


def test_unknown_keys_are_null_and_not_found(repo: Path) -> None:
    write_rows(repo, [(1, 10, 10, 1.0, 1)])
    store = open_store(repo)
    store.materialize_incremental(seconds(20).to_pydatetime())
    out = store.get_online_features(REFS, {"k": [1, 99]}, at=seconds(20)).to_dict()
    assert out["k"] == [1, 99]
    assert out["found"] == [True, False]
    assert out["x"] == [1.0, None] and out["x_count_30s"] == [1, 0] and out["x_max_20s"][1] is None
    frame = store.get_online_features(REFS, [{"k": 99}], at=seconds(20)).to_df()
    assert list(frame.columns)[-1] == "found" and not frame["found"][0]


class _Crash(RuntimeError):
    pass


class CrashingStore(SqliteOnlineStore):
    """A real SQLite store that dies after a number of successful batch writes."""

    def __init__(self, path: Path, batches: int) -> None:
        super().__init__(path)
        self.left = batches

    def _tick(self) -> None:
        if self.left == 0:
            raise _Crash("killed")
        self.left -= 1

    def write(self, view: str, records: Sequence[SnapshotRecord]) -> int:
        self._tick()
        return super().write(view, records)

    def write_tiles(self, view: str, tiles: Sequence[TileRecord]) -> int:
        self._tick()
        return super().write_tiles(view, tiles)


def _dump(path: Path) -> list[tuple[object, ...]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return (
            conn.execute("SELECT * FROM snapshot ORDER BY view, key").fetchall()
            + conn.execute("SELECT * FROM tiles ORDER BY view, grp, key, start").fetchall()
        )


def test_killed_run_resumes_with_no_duplicates_and_no_gaps(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [(k, s, s + (k % 3), float(s % 7), 1) for k in range(1, 40) for s in range(0, 100, 9)]
    write_rows(repo, rows)
    monkeypatch.setattr(materialize_module, "BATCH", 50)  # many batches, so the crash is midway
    end = seconds(100).to_pydatetime()

    clean = FeatureStore(repo, online_store=SqliteOnlineStore(repo / "clean.db"))
    clean.apply([SNAPSHOT, WINDOWED])
    clean.materialize_incremental(end)

    crashing = CrashingStore(repo / "crash.db", batches=3)
    store = FeatureStore(repo, online_store=crashing)
    store.apply([SNAPSHOT, WINDOWED])
    with pytest.raises(_Crash):
        store.materialize_incremental(end)
    assert _dump(repo / "crash.db") != _dump(repo / "clean.db")  # it really stopped midway
    crashing.left = -1  # the process restarts: no more crashes
    store.materialize_incremental(end)
    assert _dump(repo / "crash.db") == _dump(repo / "clean.db")


def test_explicit_range_materialization(repo: Path) -> None:
    write_rows(repo, [(1, 10, 10, 1.0, 1), (1, 40, 40, 4.0, 1), (2, 45, 45, 5.0, 1)])
    store = open_store(repo)
    store.materialize(seconds(30).to_pydatetime(), seconds(50).to_pydatetime(), ["snap"])
    out = store.get_online_features(["snap:x"], {"k": [1, 2]}, at=seconds(50)).to_dict()
    assert out["x"] == [4.0, 5.0]
    with pytest.raises(KeyError, match="No feature view 'nope'"):
        store.materialize(seconds(0).to_pydatetime(), seconds(1).to_pydatetime(), ["nope"])


def test_freshness_reports_watermark_and_max_event(repo: Path) -> None:
    write_rows(repo, [(1, 10, 12, 1.0, 1)])
    store = open_store(repo)
    views = store._applied_views()
    assert store.online.freshness(views)["snap"] == {"watermark": None, "max_event": None}
    store.materialize_incremental(seconds(20).to_pydatetime())
    fresh = store.online.freshness(views)["snap"]
    micros: Micros = int(seconds(20).value // 1000)
    assert fresh == {"watermark": micros, "max_event": int(seconds(10).value // 1000)}


def test_projects_sharing_one_online_store_stay_apart(tmp_path: Path) -> None:
    shared = tmp_path / "shared-online.db"
    stores = []
    for name, x in (("alpha", 1.0), ("beta", 2.0)):
        repo = tmp_path / name
        repo.mkdir()
        (repo / "cairn.yaml").write_text(f"project: {name}\nonline:\n  url: sqlite:///{shared}\n")
        write_rows(repo, [(1, 10, 10, x, 1)])
        store = open_store(repo)
        store.materialize_incremental(seconds(20).to_pydatetime())
        stores.append(store)
    assert [_x(s, 20) for s in stores] == [1.0, 2.0]
