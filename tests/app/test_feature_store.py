"""FeatureStore: apply semantics, listing, and one clear error per kind of bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.core.errors import (
    DefinitionError,
    EntityDataFrameError,
    SourceError,
    UnknownFeatureError,
)

CUSTOMER = Entity(name="customer", join_keys=["customer_id"])
T0 = pd.Timestamp("2026-01-01", tz="UTC")


@pytest.fixture
def rows(write_parquet: Callable[[str, pd.DataFrame], Path]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "event_timestamp": [T0, T0 + pd.Timedelta("1h"), T0],
            "income": [10.0, 20.0, 30.0],
            "segment": ["a", "b", "c"],
        }
    )
    write_parquet("data/profiles.parquet", frame)
    return frame


def _view(**kwargs: object) -> FeatureView:
    args: dict[str, object] = {
        "name": "profile",
        "entities": [CUSTOMER],
        "source": FileSource(path="data/profiles.parquet"),
        "schema": [Field(name="income", dtype="float64"), Field(name="segment", dtype="string")],
    }
    args.update(kwargs)
    return FeatureView(**args)  # type: ignore[arg-type]


def _entities(*times: str, ids: tuple[int, ...] = (1,)) -> pd.DataFrame:
    pairs = [(i, pd.Timestamp(t, tz="UTC")) for i in ids for t in times]
    return pd.DataFrame(pairs, columns=["customer_id", "event_timestamp"])


def test_apply_is_idempotent_and_versions_changes(repo: Path, rows: pd.DataFrame) -> None:
    store = FeatureStore(repo)
    first = store.apply([_view()])
    assert {(c.kind, c.status) for c in first.changes} == {
        ("entity", "created"),
        ("source", "created"),
        ("feature_view", "created"),
    }
    assert store.apply([_view()]).changed == []
    changed = store.apply([_view(ttl="7d")]).changed
    assert [(c.name, c.version, c.status) for c in changed] == [("profile", 2, "updated")]
    assert store.get_feature_view("profile").ttl == "7d"
    assert [v.name for v in store.list_feature_views()] == ["profile"]
    assert [e.name for e in store.list_entities()] == ["customer"]


def test_source_change_bumps_dependent_view(repo: Path, rows: pd.DataFrame) -> None:
    store = FeatureStore(repo)
    store.apply([_view()])
    moved = FileSource(path="data/profiles.parquet", description="now documented")
    kinds = {c.kind for c in store.apply([_view(source=moved)]).changed}
    assert kinds == {"source", "feature_view"}


@pytest.mark.parametrize(
    ("view", "error", "message"),
    [
        (
            lambda: _view(schema=[Field(name="salary")]),
            SourceError,
            "schema field 'salary' is not a column of the source",
        ),
        (
            lambda: _view(schema=[Field(name="segment", dtype="float64")]),
            SourceError,
            "field 'segment' is declared float64 but the source column is VARCHAR",
        ),
        (
            lambda: _view(entities=[Entity(name="acct", join_keys=["account_id"])]),
            SourceError,
            "entity join key 'account_id' is not a column",
        ),
        (
            lambda: _view(source=FileSource(path="data/missing.parquet")),
            SourceError,
            "data not found at .*missing.parquet",
        ),
        (
            lambda: _view(source=FileSource(path="data/profiles.parquet", timestamp_field="ts")),
            SourceError,
            "timestamp_field 'ts' is not a column",
        ),
        (
            lambda: _view(schema=(), aggregations=[Aggregation("segment", "sum", "1h")]),
            SourceError,
            "sum of 'segment' needs a numeric column",
        ),
    ],
)
def test_apply_rejects_views_that_do_not_fit_their_data(
    repo: Path,
    rows: pd.DataFrame,
    view: Callable[[], FeatureView],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        FeatureStore(repo).apply([view()])


def test_apply_rejects_duplicate_names(repo: Path, rows: pd.DataFrame) -> None:
    with pytest.raises(DefinitionError, match="Two different feature views are named 'profile'"):
        FeatureStore(repo).apply([_view(), _view(ttl="1d")])


def test_naive_source_timestamps_rejected_unless_zone_declared(
    repo: Path,
    write_parquet: Callable[[str, pd.DataFrame], Path],
) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [1],
            "event_timestamp": [pd.Timestamp("2026-01-01")],
            "income": [1.0],
            "segment": ["a"],
        }
    )
    write_parquet("data/profiles.parquet", frame)
    store = FeatureStore(repo)
    with pytest.raises(SourceError, match="holds naive timestamps .*timezone='UTC'"):
        store.apply([_view()])
    store.apply([_view(source=FileSource(path="data/profiles.parquet", timezone="UTC"))])
    out = store.get_historical_features(_entities("2026-01-02"), ["profile:income"]).to_df()
    assert out["income"].tolist() == [1.0]


def test_bad_entity_rows(repo: Path, rows: pd.DataFrame) -> None:
    store = FeatureStore(repo)
    store.apply([_view()])
    good = _entities("2026-01-02")
    with pytest.raises(EntityDataFrameError, match="missing the column.*'event_timestamp'"):
        store.get_historical_features(good.drop(columns="event_timestamp"), ["profile:income"])
    with pytest.raises(EntityDataFrameError, match="missing the column.*'customer_id'") as err:
        store.get_historical_features(good.drop(columns="customer_id"), ["profile:income"])
    assert " AS " not in str(err.value)  # the hint is for queries
    query = "SELECT 1 AS customer_id, TIMESTAMPTZ '2026-01-02 00:00:00+00' AS asked_at"
    hint = "missing the column.*'event_timestamp'.*name them with AS.*AS event_timestamp"
    with pytest.raises(EntityDataFrameError, match=hint):
        store.get_historical_features(query, ["profile:income"])
    naive = good.assign(event_timestamp=good["event_timestamp"].dt.tz_localize(None))
    with pytest.raises(EntityDataFrameError, match="naive timestamps"):
        store.get_historical_features(naive, ["profile:income"])
    as_text = good.assign(event_timestamp=["2026-01-02"])
    with pytest.raises(EntityDataFrameError, match="must hold timezone-aware timestamps"):
        store.get_historical_features(as_text, ["profile:income"])
    wrong_key = good.assign(customer_id=["1"])
    with pytest.raises(EntityDataFrameError, match="entity_df column 'customer_id' is VARCHAR"):
        store.get_historical_features(wrong_key, ["profile:income"]).to_df()
    with pytest.raises(EntityDataFrameError, match="neither an existing Parquet/CSV file"):
        store.get_historical_features("nowhere.parquet", ["profile:income"])
    with pytest.raises(EntityDataFrameError, match="must be a pandas DataFrame"):
        store.get_historical_features(42, ["profile:income"])  # type: ignore[arg-type]
    missing = pd.Series([pd.NaT], dtype="datetime64[us, UTC]")
    nulls = pd.concat([good, good.assign(event_timestamp=missing)], ignore_index=True)
    with pytest.raises(EntityDataFrameError, match="1 null value"):
        store.get_historical_features(nulls, ["profile:income"])


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        (
            ["profile:salary"],
            "view 'profile' has no feature 'salary'; its features are income, segment",
        ),
        (
            ["account:income"],
            "names the view 'account', which is not applied; applied views: profile",
        ),
        (["income"], "must look like 'view:feature'"),
        (["profile:income", "profile:income"], "listed twice"),
        ("profile:income", "non-empty list"),
        ([], "non-empty list"),
    ],
)
def test_unknown_feature_refs(
    repo: Path, rows: pd.DataFrame, refs: list[str], message: str
) -> None:
    store = FeatureStore(repo)
    store.apply([_view()])
    with pytest.raises(UnknownFeatureError, match=message):
        store.get_historical_features(_entities("2026-01-02"), refs)


def test_entity_rows_from_file_and_sql(repo: Path, rows: pd.DataFrame) -> None:
    store = FeatureStore(repo)
    store.apply([_view()])
    entities = _entities("2026-01-01 00:30", "2026-01-02", ids=(1, 2))
    entities.to_parquet(repo / "entities.parquet", index=False)
    from_file = store.get_historical_features(
        str(repo / "entities.parquet"), ["profile:income"]
    ).to_df()
    from_frame = store.get_historical_features(entities, ["profile:income"]).to_df()
    assert from_file["income"].tolist() == from_frame["income"].tolist() == [10.0, 20.0, 30.0, 30.0]
    sql = (
        "SELECT customer_id, event_timestamp + INTERVAL 1 HOUR AS event_timestamp "
        "FROM profiles ORDER BY customer_id, event_timestamp"
    )
    from_sql = store.get_historical_features(sql, ["profile:income"]).to_df()
    assert from_sql["income"].tolist() == [10.0, 20.0, 30.0]
    out = repo / "train.parquet"
    store.get_historical_features(sql, ["profile:income"]).to_parquet(out)
    assert pd.read_parquet(out)["income"].tolist() == [10.0, 20.0, 30.0]


def test_manifest_names_exact_inputs(repo: Path, rows: pd.DataFrame) -> None:
    store = FeatureStore(repo)
    store.apply([_view()])
    job = store.get_historical_features(_entities("2026-01-02", ids=(1, 2)), ["profile:income"])
    m = job.manifest
    assert m.row_count == 2
    assert m.feature_refs == ["profile:income"]
    assert m.feature_views["profile"]["version"] == 1
    assert len(m.sources["profiles"]["sha256"]) == 64
    assert m.entity["start"] == m.entity["end"] == "2026-01-02T00:00:00+00:00"
    again = store.get_historical_features(_entities("2026-01-02", ids=(1, 2)), ["profile:income"])
    assert again.manifest.digest == m.digest
    other = store.get_historical_features(_entities("2026-01-03", ids=(1, 2)), ["profile:income"])
    assert other.manifest.digest != m.digest
    assert job.to_arrow().num_rows == 2


def test_feature_name_collisions(repo: Path, rows: pd.DataFrame) -> None:
    store = FeatureStore(repo)
    other = _view(name="profile2")
    store.apply([_view(), other])
    with pytest.raises(DefinitionError, match="full_feature_names=True"):
        store.get_historical_features(
            _entities("2026-01-02"), ["profile:income", "profile2:income"]
        )
    out = store.get_historical_features(
        _entities("2026-01-02"), ["profile:income", "profile2:income"], full_feature_names=True
    ).to_df()
    assert list(out.columns) == [
        "customer_id",
        "event_timestamp",
        "profile__income",
        "profile2__income",
    ]
    with pytest.raises(EntityDataFrameError, match="has the name of a requested feature"):
        store.get_historical_features(
            _entities("2026-01-02").assign(income=1.0), ["profile:income"]
        )


def test_csv_and_delta_sources(repo: Path, rows: pd.DataFrame) -> None:
    from deltalake import write_deltalake

    rows.to_csv(repo / "data" / "profiles.csv", index=False)
    write_deltalake(str(repo / "data" / "profiles_delta"), rows)
    store = FeatureStore(repo)
    csv_view = _view(name="p_csv", source=FileSource(path="data/profiles.csv"))
    delta_view = _view(name="p_delta", source=FileSource(path="data/profiles_delta"))
    store.apply([csv_view, delta_view])
    job = store.get_historical_features(
        _entities("2026-01-02", ids=(1, 2)),
        ["p_csv:income", "p_delta:income"],
        full_feature_names=True,
    )
    out = job.to_df()
    assert out["p_csv__income"].tolist() == out["p_delta__income"].tolist() == [20.0, 30.0]
    assert job.manifest.sources["profiles_delta"]["delta_version"] == 0


def test_nanosecond_timestamps_are_floored_to_microseconds(
    repo: Path, write_parquet: Callable[[str, pd.DataFrame], Path]
) -> None:
    """pandas' default unit is ns: sources and entity rows in ns work, at µs resolution."""
    ts = pd.Series([T0 + pd.Timedelta(nanoseconds=1500)], dtype="datetime64[ns, UTC]")
    frame = pd.DataFrame(
        {"customer_id": [1], "event_timestamp": ts, "income": [1.0], "segment": ["a"]}
    )
    write_parquet("data/profiles.parquet", frame)
    store = FeatureStore(repo)
    store.apply([_view()])
    at = pd.Series(
        [T0 + pd.Timedelta(nanoseconds=1999), T0 + pd.Timedelta(nanoseconds=2000)],
        dtype="datetime64[ns, UTC]",
    )
    entities = pd.DataFrame({"customer_id": [1, 1], "event_timestamp": at})
    out = store.get_historical_features(entities, ["profile:income"]).to_df()
    # event 1.5 µs -> 1 µs; request 1.999 µs -> 1 µs (not after the event), 2 µs -> visible
    assert out["income"].isna().tolist() == [True, False]
    assert out["event_timestamp"].tolist() == at.tolist()
