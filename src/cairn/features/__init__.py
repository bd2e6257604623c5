"""Feature definitions: entities, sources, feature views and windowed aggregations.

Definitions are frozen, serialisable specs with Feast's names, so projects port easily.
They say *what* a feature is; the offline, online and streaming engines decide *how* to
compute it, from the same definition.

Example
-------
>>> customer = Entity(name="customer", join_keys=["customer_id"])
>>> profiles = FileSource(path="data/profiles.parquet", timestamp_field="event_timestamp")
>>> view = FeatureView(name="profile", entities=[customer], source=profiles,
...                    schema=[Field(name="income", dtype="float64")], ttl="365d")
>>> view.feature_names, view.ttl
(('income',), '365d')
"""

from __future__ import annotations

from cairn.core.types import Dtype
from cairn.features.aggregation import Aggregation, default_hop
from cairn.features.entity import Entity
from cairn.features.feature_view import FeatureView
from cairn.features.field import Field
from cairn.features.source import (
    FileSource,
    PushSource,
    Source,
    batch_of,
    is_stream,
    source_from_spec,
)
from cairn.features.spec import canonical_json, definition_hash
from cairn.features.stream_source import (
    KafkaSource,
    LocalStreamSource,
    RedisStreamSource,
    StreamSource,
)

__all__ = [
    "Aggregation",
    "Dtype",
    "Entity",
    "FeatureView",
    "Field",
    "FileSource",
    "KafkaSource",
    "LocalStreamSource",
    "PushSource",
    "RedisStreamSource",
    "Source",
    "StreamSource",
    "batch_of",
    "canonical_json",
    "default_hop",
    "definition_hash",
    "is_stream",
    "source_from_spec",
]
