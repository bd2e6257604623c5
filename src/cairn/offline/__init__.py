"""The offline store: point-in-time-correct training sets computed by DuckDB.

Entity rows (keys + ``event_timestamp``) are joined to every requested view with the rules of
DESIGN §3.1 (snapshot views, ASOF joins on availability time) and §3.2 (windowed views, from the
shared aggregation library). The result keeps exactly the entity rows given, in order.
"""

from __future__ import annotations

from cairn.core.manifest import TrainingSetManifest
from cairn.offline.engine import AppliedView, OfflineEngine, output_names, parse_refs
from cairn.offline.retrieval import RetrievalJob
from cairn.offline.sources import SourceVersion, source_version

__all__ = [
    "AppliedView",
    "OfflineEngine",
    "RetrievalJob",
    "SourceVersion",
    "TrainingSetManifest",
    "output_names",
    "parse_refs",
    "source_version",
]
