"""The Spark offline engine: training sets by Spark SQL over the same file sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cairn.features.source import Source
from cairn.offline.engine import AppliedView, OfflineEngine
from cairn.offline.entities import EntityInput
from cairn.offline.retrieval import RetrievalJob
from cairn.offline.spark.job import SparkRetrievalJob
from cairn.offline.spark.session import require_pyspark


class SparkEngine:
    """Builds training sets with Spark SQL (``offline.engine: spark``).

    Requests are checked by the DuckDB engine's preparation, so both engines accept and refuse
    the same requests; the point-in-time join itself runs on Spark at ``offline.spark_master``.

    Parameters
    ----------
    offline:
        The project's DuckDB engine (settings, project folder, shared checks).
    """

    def __init__(self, offline: OfflineEngine) -> None:
        self.offline = offline

    def get_historical_features(
        self,
        entity_df: EntityInput,
        features: Sequence[str],
        views: Mapping[str, AppliedView],
        *,
        full_feature_names: bool = False,
        sources: Sequence[Source] = (),
        version: str = "",
    ) -> RetrievalJob:
        """A lazy training-set job computed by Spark; see
        :meth:`cairn.FeatureStore.get_historical_features`."""
        require_pyspark()
        plan = self.offline.prepare(
            entity_df,
            features,
            views,
            full_feature_names=full_feature_names,
            sources=sources,
            version=version,
        )
        return SparkRetrievalJob(self.offline.settings, plan, self.offline.root)
