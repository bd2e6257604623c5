"""Push: one call appends to the offline log and updates the online store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource, PushSource
from cairn.core.errors import DataError
from tests.online._project import seconds

CUSTOMER = Entity(name="customer", join_keys=["customer_id"])


def _store(repo: Path, log_format: str) -> FeatureStore:
    path = "data/pushed" if log_format == "parquet" else "data/pushed_delta"
    log = FileSource(
        path=path,
        name="pushed_log",
        file_format=log_format,  # type: ignore[arg-type]
        created_timestamp_column="created_timestamp",
    )
    source = PushSource(name="txn_push", batch_source=log)
    latest = FeatureView(
        name="latest",
        entities=[CUSTOMER],
        source=source,
        schema=[Field(name="amount", dtype="float64")],
    )
    totals = FeatureView(
        name="totals",
        entities=[CUSTOMER],
        source=source,
        aggregations=[Aggregation("amount", "sum", "1h", hop="1m")],
    )
    store = FeatureStore(repo)
    store.apply([latest, totals])  # nothing pushed yet: the log does not exist
    return store


def _rows(*items: tuple[int, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [i[0] for i in items],
            "event_timestamp": pd.Series(
                [seconds(i[1]) for i in items], dtype="datetime64[us, UTC]"
            ),
            "amount": [i[2] for i in items],
        }
    )


@pytest.mark.parametrize("log_format", ["parquet", "delta"])
def test_push_reaches_online_and_offline(repo: Path, log_format: str) -> None:
    store = _store(repo, log_format)
    store.push("txn_push", _rows((1, 10, 5.0), (2, 11, 7.0)), now=seconds(12))
    store.push("txn_push", _rows((1, 20, 6.0)), now=seconds(21))
    refs = ["latest:amount", "totals:amount_sum_1h"]
    online = store.get_online_features(refs, {"customer_id": [1, 2, 3]}, at=seconds(30)).to_dict()
    assert online["amount"] == [6.0, 7.0, None]
    assert online["amount_sum_1h"] == [11.0, 7.0, 0.0]
    entities = pd.DataFrame(
        {"customer_id": [1, 1, 1], "event_timestamp": [seconds(15), seconds(20.5), seconds(30)]}
    )
    offline = store.get_historical_features(entities, refs).to_df()
    # the row pushed at 21 (event 20) is invisible at 20.5: it was not known yet
    assert offline["amount"].tolist() == [5.0, 5.0, 6.0]
    assert offline["amount_sum_1h"].tolist() == [5.0, 5.0, 11.0]


def test_push_rejects_rows_that_do_not_fit(repo: Path) -> None:
    store = _store(repo, "parquet")
    with pytest.raises(DataError, match="lack the column.*'amount'"):
        store.push("txn_push", _rows((1, 10, 5.0)).drop(columns="amount"))
    naive = _rows((1, 10, 5.0)).assign(event_timestamp=pd.Timestamp("2026-01-01"))
    with pytest.raises(DataError, match="timezone-aware"):
        store.push("txn_push", naive)
    with pytest.raises(KeyError, match="No push source 'nope'"):
        store.push("nope", _rows((1, 10, 5.0)))
