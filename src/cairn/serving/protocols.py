"""What serving needs from the rest of Cairn, as plain callables the composition root provides.

Serving never imports the feature store: ``cairn.app`` wires a concrete reader, a freshness
probe and a readiness probe into :func:`cairn.serving.create_app`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeAlias

from cairn.core.types import Micros

EntityRow: TypeAlias = dict[str, Any]
"""One entity: join key -> value, e.g. ``{"customer_id": 42}``."""

Freshness: TypeAlias = Mapping[str, Mapping[str, Micros | None]]
"""Per view: ``{"watermark": µs | None, "max_event": µs | None}`` (None: never materialized)."""

FreshnessProbe: TypeAlias = Callable[[], Freshness]
"""Returns the current :data:`Freshness` of every applied view (called at scrape time)."""

ReadinessProbe: TypeAlias = Callable[[], None]
"""Returns when the online store answers; raises (e.g. ``OnlineStoreError``) otherwise."""


class FeatureReader(Protocol):
    """Reads online features: the HTTP layer's only dependency on the feature store.

    Returns column name -> values (join keys first, then features, one value per entity row
    in request order) plus a ``"found"`` column of booleans: the shape of
    ``OnlineResponse.to_dict()``. Bad input raises Cairn's errors
    (:class:`~cairn.core.errors.UnknownFeatureError`,
    :class:`~cairn.core.errors.EntityDataFrameError`, ...), which serving maps to 4xx.

    Example
    -------
    >>> def reader(features: list[str], rows: list[EntityRow], full: bool) -> dict[str, list]:
    ...     return {"customer_id": [r["customer_id"] for r in rows],
    ...             "income": [9.5] * len(rows), "found": [True] * len(rows)}
    >>> reader(["profile:income"], [{"customer_id": 1}], False)["income"]
    [9.5]
    """

    def __call__(
        self, features: list[str], entity_rows: list[EntityRow], full_feature_names: bool, /
    ) -> Mapping[str, list[Any]]:
        """Online values of ``features`` for ``entity_rows``."""
        ...
