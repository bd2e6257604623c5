"""Cairn: one coherent platform for the whole life of a real-time decision model.

Define features once (:class:`Entity`, :class:`FileSource`, :class:`FeatureView`,
:class:`Aggregation`), then get point-in-time-correct training sets from a
:class:`FeatureStore`.

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

from importlib.metadata import PackageNotFoundError, version

from cairn.app.feature_store import ApplyResult, FeatureStore
from cairn.core.config import Settings
from cairn.core.manifest import TrainingSetManifest
from cairn.core.types import Dtype
from cairn.features import Aggregation, Entity, FeatureView, Field, FileSource, PushSource
from cairn.offline import RetrievalJob

try:
    __version__ = version("cairn")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Aggregation",
    "ApplyResult",
    "Dtype",
    "Entity",
    "FeatureStore",
    "FeatureView",
    "Field",
    "FileSource",
    "PushSource",
    "RetrievalJob",
    "Settings",
    "TrainingSetManifest",
    "__version__",
]
