"""The one CSV reader: empty fields are null, declared types survive an empty column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from cairn.core.errors import SourceError
from cairn.offline.csv_reader import read_csv

AWARE = pa.timestamp("us", tz="UTC")


def test_empty_fields_are_null_in_every_column(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('id,name,code,amount\n1,,NA,\n2,"",null,2.5\n3,bob,x,3\n')
    table = read_csv(path)
    assert table.column("name").to_pylist() == [None, None, "bob"]
    assert table.column("code").to_pylist() == ["NA", "null", "x"]  # only the empty field
    assert table.column("amount").to_pylist() == [None, 2.5, 3.0]


def test_an_empty_column_keeps_its_declared_type(tmp_path: Path) -> None:
    (tmp_path / "header.csv").write_text("id,event_timestamp\n")
    (tmp_path / "empty.csv").write_text("id,event_timestamp\n1,\n")
    for name in ("header.csv", "empty.csv"):
        table = read_csv(tmp_path / name, types={"event_timestamp": AWARE, "absent": AWARE})
        assert table.schema.field("event_timestamp").type == AWARE
        assert pa.types.is_null(table.schema.field("id").type) == (name == "header.csv")
    full = tmp_path / "full.csv"
    full.write_text("id,event_timestamp\n1,2026-01-01T00:00:00Z\n")
    kind = read_csv(full, types={"event_timestamp": pa.string()}).schema.field("event_timestamp")
    assert pa.types.is_timestamp(kind.type)  # a column with values keeps its inferred type


def test_tsv_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("a\tb\n1\t\n")
    assert read_csv(tmp_path / "t.tsv").to_pylist() == [{"a": 1, "b": None}]
    (tmp_path / "bad.csv").write_text("a,b\n1,2,3\n")
    with pytest.raises(SourceError, match="Cannot read the CSV file"):
        read_csv(tmp_path / "bad.csv")


def test_sources_and_entity_files_read_csv_the_same_way(tmp_path: Path) -> None:
    import duckdb

    from cairn.features.source import FileSource
    from cairn.offline.entities import register_entities
    from cairn.offline.sources import register_source

    (tmp_path / "tx.csv").write_text(
        "customer_id,event_timestamp,channel\n1,2026-01-01T00:00:00Z,\n2,2026-01-02T00:00:00Z,web\n"
    )
    (tmp_path / "none.csv").write_text("customer_id,event_timestamp,channel\n")
    con = duckdb.connect()
    register_source(con, FileSource(path="tx.csv"), tmp_path, "tx")
    assert con.execute("SELECT count(channel) FROM tx").fetchall() == [(1,)]
    empty = register_source(con, FileSource(path="none.csv"), tmp_path, "none")
    assert con.execute("SELECT count(*) FROM none").fetchall() == [(0,)]
    assert empty.columns["event_timestamp"].upper().startswith("TIMESTAMP")
    (tmp_path / "entities.csv").write_text("customer_id,event_timestamp\n")
    rows = register_entities(con, str(tmp_path / "entities.csv"), ["customer_id"])
    assert rows.types["event_timestamp"].upper().startswith("TIMESTAMP")


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_entity_sql_sees_a_sources_naive_times_in_its_declared_zone(
    tmp_path: Path, zone: str
) -> None:
    """A messy CSV with naive times and ``timezone=`` declared: selecting its time column in the
    entity SQL gives the same instants the feature reads use, so it trains as it reads."""
    from cairn import Entity, FeatureStore, FeatureView, Field, FileSource

    (tmp_path / "cairn.yaml").write_text("project: zones\n")
    (tmp_path / "survey.csv").write_text(
        "person_id,surveyed_at,score\n1,2026-03-01 08:00:00,1.5\n1,2026-03-05 08:00:00,2.5\n"
    )
    (tmp_path / "asks.csv").write_text(
        "person_id,asked_at,label\n1,2026-03-05 07:00:00,0\n1,2026-03-05 09:00:00,1\n"
    )
    person = Entity(name="person", join_keys=["person_id"])
    survey = FileSource(path="survey.csv", timestamp_field="surveyed_at", timezone=zone)
    asks = FileSource(path="asks.csv", timestamp_field="asked_at", timezone=zone)
    view = FeatureView(
        name="p", entities=[person], source=survey, schema=[Field(name="score", dtype="float64")]
    )
    store = FeatureStore(tmp_path)
    store.apply([person, view, asks])
    sql = "SELECT person_id, asked_at AS event_timestamp, label FROM asks ORDER BY asked_at"
    frame = store.get_historical_features(sql, ["p:score"]).to_df()
    local = pd.to_datetime(["2026-03-05 07:00:00", "2026-03-05 09:00:00"]).tz_localize(zone)
    assert frame["event_timestamp"].tolist() == list(local.tz_convert("UTC"))
    assert frame["score"].tolist() == [1.5, 2.5]
