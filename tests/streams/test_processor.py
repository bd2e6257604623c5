"""The processor's edges: dead letters, future events, recovery of a lost online store, a
changed definition rebuilt from the landed events, the CLI, and the stream-view rules."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, LocalStreamSource
from cairn.app.streaming import open_processor, run_processor
from cairn.cli.main import app
from cairn.core.errors import DefinitionError
from cairn.streams.processor import ProcessorSettings
from tests.streams._parity import BASE, Step, apply_view, run_scenario

runner = CliRunner(env={"COLUMNS": "200"})
customer = Entity(name="customer", join_keys=["customer_id"])


def _store(root: Path) -> FeatureStore:
    (root / "cairn.yaml").write_text("project: edges\n")
    return FeatureStore(root)


def _ts(us: int) -> pd.Timestamp:
    return pd.Timestamp(us, unit="us", tz="UTC")


def test_malformed_and_far_future_events_go_to_the_dead_letter_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns"))
    clock = [BASE]
    p = open_processor(store, "txns", clock=lambda: clock[0])
    p.start()
    p.log.produce(
        [
            {"customer_id": 1, "event_timestamp": _ts(BASE - 10).isoformat(), "amount": 5},
            {"customer_id": 1, "event_timestamp": "yesterday", "amount": 5},
            {"customer_id": 1, "event_timestamp": _ts(BASE - 10).isoformat(), "amount": "x"},
            {"customer_id": 1, "event_timestamp": _ts(BASE + 2 * 3_600_000_000).isoformat()},
            {"customer_id": 1, "event_timestamp": _ts(BASE + 1_000_000).isoformat(), "amount": 1},
        ]
    )
    result = p.step()
    assert (result.events, result.landed, result.dead, result.held) == (5, 1, 3, 1)
    letters = [
        orjson.loads(line)
        for line in (tmp_path / ".cairn/streams/txns.dead.jsonl").read_bytes().splitlines()
    ]
    reasons = [letter["reason"] for letter in letters]
    assert "ISO-8601" in reasons[0] and "'amount' must be float64" in reasons[1]
    assert "ahead (beyond max)" in reasons[2]
    assert [letter["offset"] for letter in letters] == [1, 2, 3]
    clock[0] += 2_000_000  # the held event is due now
    assert p.step().released == 1
    assert p.checkpoint.count("landed") == 2 and p.checkpoint.held == ()
    p.log.close()


def test_reject_future_dead_letters_early_events(tmp_path: Path) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns"))
    p = open_processor(
        store, "txns", clock=lambda: BASE, settings=ProcessorSettings(future_events="reject")
    )
    p.start()
    p.log.produce([{"customer_id": 1, "event_timestamp": _ts(BASE + 5).isoformat()}])
    assert p.step().dead == 1 and p.checkpoint.held == ()
    p.log.close()


def test_a_lost_online_store_resumes_from_the_landed_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns", partitions=2))
    steps = [Step(60, [(k % 3, -k * 1_000_000, float(k)) for k in range(20)]) for _ in range(3)]
    assert run_scenario(store, steps, 3, monkeypatch).mismatches == []
    landed = store.online.store
    landed.close()
    gone = list((tmp_path / ".cairn").glob("online.db*"))
    assert gone
    for f in gone:
        f.unlink()  # the online store is gone; the log and the landed batches remain
    fresh = FeatureStore(tmp_path)
    p = run_processor(fresh, "txns", threading.Event(), until_idle=True)
    assert p.checkpoint.count("landed") == 60  # nothing read twice
    frames = pd.read_parquet(tmp_path / "data/streams/txns")
    assert len(frames) == 60
    at = pd.Timestamp(p.checkpoint.commit_us, unit="us", tz="UTC")
    refs = ["velocity:amount_count_1h", "velocity:amount_sum_10m"]
    online = fresh.get_online_features(refs, [{"customer_id": k} for k in range(3)], at=at)
    batch = fresh.get_historical_features(
        pd.DataFrame({"customer_id": range(3), "event_timestamp": [at] * 3}), refs
    ).to_df()
    assert online.to_df()["amount_count_1h"].tolist() == batch["amount_count_1h"].tolist()
    assert online.to_df()["amount_count_1h"].sum() > 0
    p.log.close()


def test_a_changed_view_is_rebuilt_from_the_landed_events(tmp_path: Path) -> None:
    store = _store(tmp_path)
    source = LocalStreamSource(name="txns")
    first = FeatureView(name="v", entities=[customer], source=source,
                        aggregations=[Aggregation("amount", "sum", "1h")])  # fmt: skip
    store.apply([first])
    now = pd.Timestamp.now(tz="UTC")
    rows = [{"customer_id": 1, "event_timestamp": now - pd.Timedelta(minutes=m), "amount": 2.0}
            for m in range(1, 6)]  # fmt: skip
    store.produce("txns", rows)
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    changed = FeatureView(name="v", entities=[customer], source=source,
                          aggregations=[Aggregation("amount", "sum", "1h"),
                                        Aggregation("amount", "count", "1h")])  # fmt: skip
    store.apply([changed])
    status = runner.invoke(app, ["stream", "status", "--json", "--repo", str(tmp_path)])
    assert orjson.loads(status.output)[0]["version_state"] == "stale"
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    got = store.get_online_features(["v:amount_sum_1h", "v:amount_count_1h"],
                                    [{"customer_id": 1}]).to_dict()  # fmt: skip
    assert got["amount_sum_1h"] == [10.0] and got["amount_count_1h"] == [5]
    status = runner.invoke(app, ["stream", "status", "--json", "--repo", str(tmp_path)])
    assert orjson.loads(status.output)[0]["version_state"] == "current"


def test_the_cli_produces_runs_and_reports(tmp_path: Path) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns", timezone="UTC",
                                        schema=[Field("note", "string")]))  # fmt: skip
    now = pd.Timestamp.now(tz="UTC").floor("s")
    csv = tmp_path / "events.csv"
    csv.write_text(
        "customer_id,event_timestamp,amount,note\n"
        f"1,{(now - pd.Timedelta(seconds=3)).isoformat()},4.5,first\n"
        f"1,{(now - pd.Timedelta(seconds=2)).tz_localize(None).isoformat()},,naive in UTC\n"
        f"2,{(now - pd.Timedelta(seconds=1)).isoformat()},1,\n"
    )
    repo = ["--repo", str(tmp_path)]
    produced = runner.invoke(app, ["stream", "produce", "txns", str(csv), "--json", *repo])
    assert produced.exit_code == 0, produced.output
    assert orjson.loads(produced.output)["events"] == 3
    ran = runner.invoke(app, ["stream", "run", "velocity", "--until-idle", "--json", *repo])
    assert ran.exit_code == 0, ran.output
    assert orjson.loads(ran.output)["txns"]["landed"] == 3
    shown = runner.invoke(app, ["stream", "status", *repo])
    assert shown.exit_code == 0 and "velocity" in shown.output and "current" in shown.output
    got = store.get_online_features(["velocity:amount_count_1h"], [{"customer_id": 1}]).to_dict()
    assert got["amount_count_1h"] == [1]  # the null amount is not counted
    landed = pd.read_parquet(tmp_path / "data/streams/txns")
    assert landed["note"].tolist()[:2] == ["first", "naive in UTC"]
    assert landed["note"].isna().tolist() == [False, False, True]
    missing = runner.invoke(app, ["stream", "produce", "txns", str(tmp_path / "no.csv"), *repo])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_stream_views_are_windowed_and_batch_sources_appendable() -> None:
    source = LocalStreamSource(name="txns")
    with pytest.raises(DefinitionError, match="needs aggregations"):
        FeatureView(name="v", entities=[customer], source=source, schema=[Field("amount")])
    from cairn import FileSource

    with pytest.raises(DefinitionError, match="created_timestamp_column"):
        LocalStreamSource(name="s", batch_source=FileSource(path="data/x", name="x"))
    with pytest.raises(DefinitionError, match="appendable"):
        LocalStreamSource(name="s", batch_source=FileSource(
            path="data/x.csv", created_timestamp_column="c"))  # fmt: skip


def test_materialize_leaves_stream_views_to_their_processor(tmp_path: Path) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns"))
    assert store.materialize_incremental(pd.Timestamp.now(tz="UTC").to_pydatetime()) == []


def test_the_definition_round_trips(tmp_path: Path) -> None:
    store = _store(tmp_path)
    src = LocalStreamSource(name="txns", partitions=3, schema=[Field("x", "int64")])
    apply_view(store, src)
    (applied,) = [s for s in store.list_sources() if s.name == "txns"]
    assert applied == src
    shutil.rmtree(tmp_path / ".cairn")


def test_a_delta_batch_source_gets_one_commit_per_batch_and_resumes(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    from cairn import FileSource

    store = _store(tmp_path)
    landed = FileSource(path="data/landed", file_format="delta", name="landed",
                        created_timestamp_column="created_timestamp")  # fmt: skip
    apply_view(store, LocalStreamSource(name="txns", batch_source=landed))
    now = pd.Timestamp.now(tz="UTC")
    rows = [{"customer_id": 1, "event_timestamp": now - pd.Timedelta(seconds=s), "amount": 1.0}
            for s in range(1, 4)]  # fmt: skip
    store.produce("txns", rows)
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    table = DeltaTable(str(tmp_path / "data/landed"))
    assert len(table.to_pandas()) == 3 and len(table.history()) == 1
    for f in (tmp_path / ".cairn").glob("online.db*"):
        f.unlink()  # lost online store: the checkpoint comes back from the Delta commit
    store = FeatureStore(tmp_path)
    store.produce("txns", [{**rows[0], "customer_id": 2}])
    p = run_processor(store, "txns", threading.Event(), until_idle=True)
    p.log.close()
    assert len(DeltaTable(str(tmp_path / "data/landed")).to_pandas()) == 4  # nothing twice
    got = store.get_online_features(["velocity:amount_count_1h"],
                                    [{"customer_id": 1}, {"customer_id": 2}]).to_dict()  # fmt: skip
    assert got["amount_count_1h"] == [3, 1]


def test_reads_before_any_event_landed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns"))
    from cairn.core.errors import DataError

    with pytest.raises(DataError, match="type of its join key 'customer_id' is unknown"):
        store.get_online_features(["velocity:amount_count_1h"], [{"customer_id": 1}])
    typed = LocalStreamSource(name="txns", schema=[Field("customer_id", "int64")])
    apply_view(store, typed)
    got = store.get_online_features(["velocity:amount_count_1h"], [{"customer_id": 1}])
    assert got.to_dict() == {"customer_id": [1], "amount_count_1h": [0], "found": [False]}


def test_a_running_processor_takes_a_changed_view_without_a_restart(tmp_path: Path) -> None:
    store = _store(tmp_path)
    source = LocalStreamSource(name="txns", schema=[Field("customer_id", "int64")])
    first = FeatureView(name="v", entities=[customer], source=source,
                        aggregations=[Aggregation("amount", "sum", "1h")])  # fmt: skip
    store.apply([first])
    now = pd.Timestamp.now(tz="UTC")
    store.produce("txns", [{"customer_id": 1, "event_timestamp": now - pd.Timedelta(minutes=2),
                            "amount": 2.0}])  # fmt: skip
    stop = threading.Event()
    worker = FeatureStore(tmp_path)  # the processor's own process, in a thread
    thread = threading.Thread(
        target=run_processor,
        args=(worker, "txns", stop),
        kwargs={"poll_s": 0.02, "refresh_s": 0.05},
    )
    thread.start()
    try:
        _until(lambda: store.get_online_features(["v:amount_sum_1h"], [{"customer_id": 1}])
               .to_dict()["amount_sum_1h"] == [2.0])  # fmt: skip
        changed = FeatureView(name="v", entities=[customer], source=source,
                              aggregations=[Aggregation("amount", "sum", "1h"),
                                            Aggregation("amount", "count", "1h")])  # fmt: skip
        store.apply([changed])
        refs = ["v:amount_sum_1h", "v:amount_count_1h"]
        # until the switch the live definition serves, and the new feature is not served yet
        # (a clear error, never a null or a 500); then both read, rebuilt from the landed rows
        _until(lambda: _counts(store, refs) == [1])
        store.produce("txns", [{"customer_id": 1, "event_timestamp": pd.Timestamp.now(tz="UTC"),
                                "amount": 3.0}])  # fmt: skip
        _until(lambda: store.get_online_features(refs, [{"customer_id": 1}]).to_dict()
               == {"customer_id": [1], "amount_sum_1h": [5.0], "amount_count_1h": [2],
                   "found": [True]})  # fmt: skip
    finally:
        stop.set()
        thread.join(10)


def _counts(store: FeatureStore, refs: list[str]) -> list[int] | None:
    from cairn.core.errors import UnknownFeatureError

    try:
        got = store.get_online_features(refs, [{"customer_id": 1}]).to_dict()
    except UnknownFeatureError as exc:
        assert "backfilled" in str(exc) or "not served yet" in str(exc), exc
        return None
    return list(got["amount_count_1h"])


def _until(check: object, seconds: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_tiles_of_an_older_definition_read_null_for_new_features() -> None:
    from cairn.core.online import TileRecord, read_many
    from cairn.core.types import Dtype
    from cairn.online.backends.sqlite import SqliteOnlineStore
    from cairn.online.reader import finish_view, plan_view, view_requests

    view = FeatureView(name="v", entities=[customer], source=LocalStreamSource(name="s"),
                       aggregations=[Aggregation("amount", "sum", "1h", hop="5m"),
                                     Aggregation("amount", "count", "1h", hop="5m")])  # fmt: skip
    store = SqliteOnlineStore(":memory:")
    store.write_tiles("v", [TileRecord("1", "5m", 0, 1, {"amount_sum_1h": 4.0})])  # old tile
    outputs = {"amount_sum_1h": Dtype.FLOAT64, "amount_count_1h": Dtype.INT64}
    plan = plan_view(view, list(outputs), [Dtype.INT64], outputs, "v")
    now = 600_000_000
    columns, found = finish_view(plan, 1, now, read_many(store, view_requests(plan, ["1"], now)))
    assert columns == [[4.0], [None]] and found == [True]


def test_a_replaced_log_is_refused_not_skipped(tmp_path: Path) -> None:
    store = _store(tmp_path)
    apply_view(store, LocalStreamSource(name="txns", schema=[Field("customer_id", "int64")]))
    now = pd.Timestamp.now(tz="UTC")
    store.produce("txns", [{"customer_id": 1, "event_timestamp": now, "amount": 1.0}] * 3)
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    store.stream_log("txns").close()
    for f in (tmp_path / ".cairn/streams").glob("txns.db*"):
        f.unlink()  # a new, empty log behind the same source
    from cairn.streams.processor import StreamError

    with pytest.raises(StreamError, match="ahead of its log"):
        run_processor(FeatureStore(tmp_path), "txns", threading.Event(), until_idle=True)


def test_a_timestamp_field_lands_as_a_timestamp(tmp_path: Path) -> None:
    store = _store(tmp_path)
    schema = [Field("customer_id", "int64"), Field("opened_at", "timestamp")]
    apply_view(store, LocalStreamSource(name="txns", schema=schema))
    now = pd.Timestamp.now(tz="UTC").floor("ms")
    store.produce("txns", [
        {"customer_id": 1, "event_timestamp": now, "amount": 1.0, "opened_at": now},
        {"customer_id": 2, "event_timestamp": now, "amount": 2.0, "opened_at": None},
        {"customer_id": 3, "event_timestamp": now, "amount": 3.0, "opened_at": "not a time"},
    ])  # fmt: skip
    p = run_processor(store, "txns", threading.Event(), until_idle=True)
    p.log.close()
    landed = pd.read_parquet(tmp_path / "data/streams/txns")
    assert landed["opened_at"].tolist()[0] == now and pd.isna(landed["opened_at"].tolist()[1])
    assert p.checkpoint.count("dead") == 1 and p.checkpoint.count("landed") == 2
