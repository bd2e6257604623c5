from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn import Aggregation, Entity, FeatureView, Field, FileSource
from cairn.core.errors import DefinitionError
from cairn.core.types import Dtype
from cairn.features import default_hop, definition_hash

CUSTOMER = Entity(name="customer", join_keys=["customer_id"])
SRC = FileSource(path="data/txns.parquet", timestamp_field="ts", created_timestamp_column="created")


def test_field_dtype_from_string_or_type() -> None:
    assert Field(name="a", dtype="int64").dtype is Dtype.INT64
    assert Field(name="a", dtype=Dtype.BOOL).dtype is Dtype.BOOL


def test_bad_dtype_lists_choices() -> None:
    with pytest.raises(
        DefinitionError, match=r"Field 'a' dtype must be one of .*'float64'.*got 'float'"
    ):
        Field(name="a", dtype="float")


def test_aggregation_default_names_and_hops() -> None:
    assert Aggregation("amount", "sum", timedelta(hours=24)).name == "amount_sum_24h"
    assert Aggregation("amount", "count", "7d").name == "amount_count_7d"
    assert Aggregation("amount", "count", "7d").hop == "1h"
    assert Aggregation("amount", "mean", "1h").hop == "5m"
    assert Aggregation("amount", "mean", "30d").hop == "24h"
    assert Aggregation("amount", "max", "1h", hop="0s").hop_us == 0
    assert Aggregation("amount", "max", "1h", name="peak").name == "peak"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": "0s"}, "window must be positive"),
        ({"window": "-1h"}, "window must be a timedelta"),
        ({"window": timedelta(0)}, "window must be positive"),
        ({"window": "1h", "hop": "7m"}, "hop must be 0 .* or divide the window 1h evenly; got 7m"),
        ({"window": "1h", "function": "median"}, "function must be one of count, sum"),
    ],
)
def test_bad_aggregation(kwargs: dict[str, object], message: str) -> None:
    args = {"column": "amount", "function": "sum", **kwargs}
    with pytest.raises(DefinitionError, match=message):
        Aggregation(**args)  # type: ignore[arg-type]


def test_default_hop_boundaries() -> None:
    h = 3_600_000_000
    assert default_hop(12 * h - 1) == 300_000_000
    assert default_hop(12 * h) == h
    assert default_hop(12 * 24 * h) == h
    assert default_hop(12 * 24 * h + 1) == 24 * h


def test_view_needs_schema_xor_aggregations() -> None:
    with pytest.raises(DefinitionError, match="not neither"):
        FeatureView(name="v", entities=[CUSTOMER], source=SRC)
    with pytest.raises(DefinitionError, match="not both"):
        FeatureView(
            name="v",
            entities=[CUSTOMER],
            source=SRC,
            schema=[Field(name="a")],
            aggregations=[Aggregation("a", "sum", "1h")],
        )


def test_view_rejects_duplicate_features_and_key_names() -> None:
    with pytest.raises(DefinitionError, match="defines the feature 'a' twice"):
        FeatureView(
            name="v", entities=[CUSTOMER], source=SRC, schema=[Field(name="a"), Field(name="a")]
        )
    with pytest.raises(DefinitionError, match="has the name of a join key"):
        FeatureView(name="v", entities=[CUSTOMER], source=SRC, schema=[Field(name="customer_id")])


def test_ttl_only_for_snapshot_views() -> None:
    with pytest.raises(DefinitionError, match="ttl applies to schema views"):
        FeatureView(
            name="v",
            entities=[CUSTOMER],
            source=SRC,
            ttl="1d",
            aggregations=[Aggregation("a", "sum", "1h")],
        )


@pytest.mark.parametrize("bad", ["1abc", "a-b", "", "a b", None])
def test_names_are_identifiers(bad: object) -> None:
    with pytest.raises(DefinitionError, match="FeatureView.name must be a name"):
        FeatureView(
            name=bad,
            entities=[CUSTOMER],
            source=SRC,  # type: ignore[arg-type]
            schema=[Field(name="a")],
        )


def test_source_defaults() -> None:
    assert FileSource(path="x/transactions.csv").file_format == "csv"
    assert FileSource(path="x/transactions.csv").name == "transactions"
    with pytest.raises(DefinitionError, match="file_format must be one of"):
        FileSource(path="x.parquet", file_format="orc")  # type: ignore[arg-type]


_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@settings(derandomize=True, max_examples=60)
@given(
    name=_names,
    fields=st.lists(_names, min_size=1, max_size=4, unique=True),
    dtypes=st.lists(st.sampled_from([d.value for d in Dtype]), min_size=4, max_size=4),
    ttl=st.one_of(st.none(), st.sampled_from(["1h", "7d", "90m"])),
)
def test_specs_round_trip(name: str, fields: list[str], dtypes: list[str], ttl: str | None) -> None:
    fields = [f for f in fields if f != "customer_id"] or ["x"]
    view = FeatureView(
        name=name,
        entities=[CUSTOMER],
        source=SRC,
        ttl=ttl,
        schema=[Field(name=f, dtype=d) for f, d in zip(fields, dtypes, strict=False)],
    )
    back = FeatureView.from_spec(view.to_spec(), {"customer": CUSTOMER}, {SRC.name: SRC})
    assert back == view
    assert definition_hash(back) == definition_hash(view)


@settings(derandomize=True, max_examples=40)
@given(
    fn=st.sampled_from(["count", "sum", "mean", "min", "max", "last", "std", "var"]),
    window=st.sampled_from(["1h", "24h", "7d", "30d"]),
)
def test_aggregation_specs_round_trip(fn: str, window: str) -> None:
    agg = Aggregation("amount", fn, window)
    assert Aggregation.from_spec(agg.to_spec()) == agg


def test_hash_changes_with_definition() -> None:
    a = FeatureView(name="v", entities=[CUSTOMER], source=SRC, schema=[Field(name="a")])
    b = FeatureView(name="v", entities=[CUSTOMER], source=SRC, schema=[Field(name="a")], ttl="1d")
    assert definition_hash(a) != definition_hash(b)
