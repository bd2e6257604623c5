"""FeatureView: a named group of features of one or more entities, read from one source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cairn.core.errors import DefinitionError
from cairn.core.timeutil import format_duration, parse_duration
from cairn.core.types import Dtype, Micros
from cairn.features._names import check_name
from cairn.features.aggregation import Aggregation
from cairn.features.entity import Entity
from cairn.features.field import Field
from cairn.features.source import SOURCE_TYPES, Source, is_stream


@dataclass(frozen=True)
class FeatureView:
    """Features of entities, either snapshot columns (``schema``) or windowed ``aggregations``.

    Parameters
    ----------
    name:
        Unique name; features are referenced as ``"name:feature"``.
    entities:
        The entities whose join keys identify a row.
    source:
        Where the rows come from.
    schema:
        Snapshot features: the latest visible value of each column is served.
    ttl:
        For snapshot views, how long a value stays valid after its event time (``None``: forever).
    aggregations:
        Windowed features; exclusive with ``schema``.

    Example
    -------
    >>> customer = Entity(name="customer", join_keys=["customer_id"])
    >>> from cairn.features.file_source import FileSource
    >>> txns = FileSource(path="data/transactions.parquet", timestamp_field="ts")
    >>> view = FeatureView(name="txn_stats", entities=[customer], source=txns,
    ...                    aggregations=[Aggregation("amount", "sum", "24h")])
    >>> view.feature_names
    ('amount_sum_24h',)
    """

    name: str
    entities: Sequence[Entity]
    source: Source
    schema: Sequence[Field] = ()
    ttl: timedelta | str | None = None
    aggregations: Sequence[Aggregation] = ()
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name(self.name, "FeatureView.name")
        entities = (
            tuple(self.entities) if not isinstance(self.entities, Entity) else (self.entities,)
        )
        if not entities or not all(isinstance(e, Entity) for e in entities):
            raise DefinitionError(
                f"FeatureView {self.name!r} entities must be a non-empty list of Entity; "
                f"got {self.entities!r}."
            )
        if not isinstance(self.source, SOURCE_TYPES):
            raise DefinitionError(
                f"FeatureView {self.name!r} source must be a FileSource, PushSource, "
                f"LocalStreamSource, KafkaSource or RedisStreamSource; got {self.source!r}."
            )
        schema, aggs = tuple(self.schema), tuple(self.aggregations)
        if bool(schema) == bool(aggs):
            raise DefinitionError(
                f"FeatureView {self.name!r} needs either schema (snapshot features) or "
                f"aggregations (windowed features), not {'both' if schema else 'neither'}."
            )
        if schema and is_stream(self.source):
            raise DefinitionError(
                f"FeatureView {self.name!r} reads the stream source {self.source.name!r}, so it "
                f"needs aggregations (windowed features kept current by `cairn stream run`); "
                f"got schema. Snapshot features read a FileSource or PushSource (the stream's "
                f"batch_source is one)."
            )
        ttl: str | None = None
        if self.ttl is not None:
            if aggs:
                raise DefinitionError(
                    f"FeatureView {self.name!r}: ttl applies to schema views; windowed "
                    f"aggregations already bound their time range by their window."
                )
            us = parse_duration(self.ttl, owner=f"FeatureView {self.name!r} ttl")
            if us <= 0:
                raise DefinitionError(
                    f"FeatureView {self.name!r} ttl must be positive; got {self.ttl!r}."
                )
            ttl = format_duration(us)
        object.__setattr__(self, "entities", entities)
        object.__setattr__(self, "schema", schema)
        object.__setattr__(self, "aggregations", aggs)
        object.__setattr__(self, "ttl", ttl)
        object.__setattr__(self, "tags", dict(self.tags))
        names = self.feature_names
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DefinitionError(
                f"FeatureView {self.name!r} defines the feature {dupes[0]!r} twice."
            )
        clash = set(names) & set(self.join_keys)
        if clash:
            raise DefinitionError(
                f"FeatureView {self.name!r}: feature {sorted(clash)[0]!r} has the name of a "
                f"join key."
            )

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def join_keys(self) -> tuple[str, ...]:
        """Join keys of all entities, in order."""
        return tuple(k for e in self.entities for k in e.join_keys)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the features this view serves."""
        if self.aggregations:
            return tuple(a.name for a in self.aggregations)
        return tuple(f.name for f in self.schema)

    @property
    def ttl_us(self) -> Micros | None:
        """TTL in microseconds, or None."""
        return None if self.ttl is None else parse_duration(self.ttl)

    @property
    def is_windowed(self) -> bool:
        """Whether this view serves windowed aggregations."""
        return bool(self.aggregations)

    def field(self, name: str) -> Field:
        """The schema field ``name`` (snapshot views)."""
        for f in self.schema:
            if f.name == name:
                return f
        raise KeyError(name)

    def dtypes(self, source_dtypes: dict[str, Dtype]) -> dict[str, Dtype]:
        """Feature name -> dtype, given the dtypes of the source columns."""
        if not self.aggregations:
            return {f.name: Dtype.parse(f.dtype) for f in self.schema}
        from cairn.features.aggregates import get_function

        return {
            a.name: get_function(a.function).output_dtype(source_dtypes[a.column])
            for a in self.aggregations
        }

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this view (entities by name, source by name)."""
        return {
            "name": self.name,
            "entities": [e.name for e in self.entities],
            "source": self.source.name,
            "schema": [f.to_spec() for f in self.schema],
            "ttl": self.ttl,
            "aggregations": [a.to_spec() for a in self.aggregations],
            "description": self.description,
            "tags": dict(sorted(self.tags.items())),
        }

    @classmethod
    def from_spec(
        cls, spec: dict[str, Any], entities: dict[str, Entity], sources: dict[str, Source]
    ) -> FeatureView:
        """Rebuild a view from ``to_spec`` output and the entities and sources it names."""
        return cls(
            name=spec["name"],
            entities=[entities[n] for n in spec["entities"]],
            source=sources[spec["source"]],
            schema=[Field.from_spec(f) for f in spec["schema"]],
            ttl=spec.get("ttl"),
            aggregations=[Aggregation.from_spec(a) for a in spec["aggregations"]],
            description=spec.get("description", ""),
            tags=spec.get("tags", {}),
        )
