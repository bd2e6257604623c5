"""Cairn: one coherent platform for the whole life of a real-time decision model.

Define features once (:class:`Entity`, :class:`FileSource`, :class:`FeatureView`,
:class:`Aggregation`), then get point-in-time-correct training sets from a
:class:`FeatureStore`; open a whole project (stores, tracker, registry, rollouts, prediction
log) with :meth:`Project.open`.

``import cairn`` is light: the names below load on first use (PEP 562), so the ``cairn``
command starts fast.

Example
-------
>>> from cairn import Entity, Field, FileSource, FeatureView
>>> customer = Entity(name="customer", join_keys=["customer_id"])
>>> view = FeatureView(name="profile", entities=[customer],
...                    source=FileSource(path="data/profiles.parquet"),
...                    schema=[Field(name="income", dtype="float64")])
>>> view.join_keys
('customer_id',)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import _compat
from cairn.core.lazy import lazy_exports

_compat.install()

_LAZY: dict[str, str] = {
    "Aggregation": "cairn.features",
    "ApplyResult": "cairn.app.feature_store",
    "Dtype": "cairn.core.types",
    "Entity": "cairn.features",
    "FeatureStore": "cairn.app.feature_store",
    "FeatureView": "cairn.features",
    "Field": "cairn.features",
    "FileSource": "cairn.features",
    "KafkaSource": "cairn.features",
    "LocalStreamSource": "cairn.features",
    "RedisStreamSource": "cairn.features",
    "Project": "cairn.app.project",
    "PushSource": "cairn.features",
    "RetrievalJob": "cairn.offline",
    "Settings": "cairn.core.config",
    "TrainingSetManifest": "cairn.core.manifest",
}

if TYPE_CHECKING:
    from cairn.app.feature_store import ApplyResult, FeatureStore
    from cairn.app.project import Project
    from cairn.core.config import Settings
    from cairn.core.manifest import TrainingSetManifest
    from cairn.core.types import Dtype
    from cairn.features import (
        Aggregation,
        Entity,
        FeatureView,
        Field,
        FileSource,
        KafkaSource,
        LocalStreamSource,
        PushSource,
        RedisStreamSource,
    )
    from cairn.offline import RetrievalJob


_load = lazy_exports(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from cairn.core.version import package_version

        return package_version()
    return _load(name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "__version__"])


__all__ = [
    "Aggregation",
    "ApplyResult",
    "Dtype",
    "Entity",
    "FeatureStore",
    "FeatureView",
    "Field",
    "FileSource",
    "KafkaSource",
    "LocalStreamSource",
    "Project",
    "PushSource",
    "RedisStreamSource",
    "RetrievalJob",
    "Settings",
    "TrainingSetManifest",
    "__version__",
]
