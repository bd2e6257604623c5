"""The DuckDB offline engine: point-in-time training sets over file sources.

:class:`TrainingSetEngine` is the seam the feature store builds training sets through; the
DuckDB engine implements it, and so does the Spark engine (:mod:`cairn.offline.spark`), which
starts from the same checked :class:`TrainingPlan`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from cairn.core.config import OfflineSettings
from cairn.core.errors import DefinitionError, EntityDataFrameError, UnknownFeatureError
from cairn.core.manifest import TrainingSetManifest
from cairn.features.feature_view import FeatureView
from cairn.features.source import Source, batch_of
from cairn.offline.connection import connect, quote
from cairn.offline.entities import EntityInput, EntityRows, is_sql, register_entities
from cairn.offline.retrieval import RetrievalJob, ViewRequest, manifest_factory
from cairn.offline.sources import SourceRelation, register_source, source_version, zoned_columns
from cairn.offline.validate import check_view


class TrainingSetEngine(Protocol):
    """The seam between the feature store and an engine of training sets: DuckDB
    (:class:`OfflineEngine`, the default) or Spark (``cairn.offline.spark.SparkEngine``)."""

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
        """The training set of ``entity_df`` and ``features``, point-in-time correct."""
        ...


@dataclass(frozen=True)
class TrainingPlan:
    """A checked training-set request (see :meth:`OfflineEngine.prepare`)."""

    con: duckdb.DuckDBPyConnection
    """The DuckDB connection holding ``__entities`` and each view's source relation."""
    entities: EntityRows
    requests: list[ViewRequest]
    names: dict[tuple[str, str], str]
    manifest: Callable[[int, dict[str, Any]], TrainingSetManifest]


@dataclass(frozen=True)
class AppliedView:
    """A view as recorded in the metadata store."""

    view: FeatureView
    version: int
    definition_hash: str


def parse_refs(features: Sequence[str], views: Mapping[str, AppliedView]) -> dict[str, list[str]]:
    """``["view:feature", ...]`` -> view name -> features, in request order."""
    if isinstance(features, str) or not features:
        raise UnknownFeatureError(
            f"features must be a non-empty list of 'view:feature' references; got {features!r}."
        )
    wanted: dict[str, list[str]] = {}
    for ref in features:
        view_name, sep, feature = ref.partition(":") if isinstance(ref, str) else ("", "", "")
        if not sep or not view_name or not feature:
            raise UnknownFeatureError(
                f"feature reference {ref!r} must look like 'view:feature' "
                f"(e.g. 'txn_stats:amount_sum_24h')."
            )
        if view_name not in views:
            known = ", ".join(sorted(views)) or "none (run `cairn apply` first)"
            raise UnknownFeatureError(
                f"feature reference {ref!r} names the view {view_name!r}, which is not applied; "
                f"applied views: {known}."
            )
        view = views[view_name].view
        if feature not in view.feature_names:
            raise UnknownFeatureError(
                f"feature reference {ref!r}: view {view_name!r} has no feature {feature!r}; "
                f"its features are {', '.join(view.feature_names)}."
            )
        chosen = wanted.setdefault(view_name, [])
        if feature in chosen:
            raise UnknownFeatureError(f"feature reference {ref!r} is listed twice.")
        chosen.append(feature)
    return wanted


class OfflineEngine:
    """Builds training sets with DuckDB.

    Parameters
    ----------
    settings:
        Memory limit, threads and spill folder.
    root:
        The project folder; relative source paths resolve against it.
    """

    def __init__(self, settings: OfflineSettings, root: Path, project: str) -> None:
        self.settings = settings
        self.root = root
        self.project = project

    def source_columns(self, view: FeatureView) -> dict[str, str]:
        """Check ``view`` against its source's real columns and return them (name -> type)."""
        con = connect(self.settings, self.root)
        try:
            relation = register_source(con, view.source, self.root, "__check")
            check_view(view, relation.columns)
            return relation.columns
        finally:
            con.close()

    def check_source(self, source: Source) -> dict[str, str]:
        """Check that a source is readable with usable timestamps; return its column types."""
        con = connect(self.settings, self.root)
        try:
            return register_source(con, source, self.root, "__check").columns
        finally:
            con.close()

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
        """A lazy training-set job; see :meth:`cairn.FeatureStore.get_historical_features`."""
        plan = self.prepare(
            entity_df,
            features,
            views,
            full_feature_names=full_feature_names,
            sources=sources,
            version=version,
        )
        return RetrievalJob(plan.con, plan.entities, plan.requests, plan.names, plan.manifest)

    def prepare(
        self,
        entity_df: EntityInput,
        features: Sequence[str],
        views: Mapping[str, AppliedView],
        *,
        full_feature_names: bool = False,
        sources: Sequence[Source] = (),
        version: str = "",
    ) -> TrainingPlan:
        """Everything a training set is built from, checked: the entity rows registered as
        ``__entities``, each view's source registered and checked, the output names and the
        manifest callback. Every engine starts here, so every engine refuses the same input
        with the same message."""
        wanted = parse_refs(features, views)
        names = output_names(features, full_feature_names)
        con = connect(self.settings, self.root)
        join_keys = list(dict.fromkeys(k for v in wanted for k in views[v].view.join_keys))
        if isinstance(entity_df, str) and is_sql(entity_df):
            self._register_sources(con, sources)  # SQL entity rows may name any applied source
        entities = register_entities(con, entity_df, join_keys)
        clash = sorted(set(names.values()) & set(entities.columns))
        if clash:
            raise EntityDataFrameError(
                f"entity_df column {clash[0]!r} has the name of a requested feature; rename the "
                f"column or pass full_feature_names=True."
            )
        requests: list[ViewRequest] = []
        relations: dict[str, SourceRelation] = {}
        for i, (view_name, feats) in enumerate(wanted.items()):
            view = views[view_name].view
            relation = relations.get(view.source.name)
            if relation is None:
                relation = register_source(con, view.source, self.root, f"__src{i}")
                relations[view.source.name] = relation
            dtypes = check_view(view, relation.columns)
            requests.append(ViewRequest(view, feats, relation, dtypes))
        used = {views[v].view.source.name: batch_of(views[v].view.source) for v in wanted}
        meta = {
            v: {
                "version": views[v].version,
                "definition_hash": views[v].definition_hash,
                "features": wanted[v],
            }
            for v in wanted
        }
        factory = manifest_factory(
            self.project,
            list(features),
            meta,
            lambda: {n: source_version(s, self.root).to_dict() for n, s in sorted(used.items())},
            full_feature_names,
            version,
        )
        return TrainingPlan(con, entities, requests, names, factory)

    def query(self, sql: str, sources: Sequence[Source]) -> pa.Table:
        """The rows of ``sql`` over ``sources``, each visible as a table named after it
        (``SELECT customer_id, event_timestamp FROM applications``)."""
        con = connect(self.settings, self.root)
        try:
            self._register_sources(con, sources)
            try:
                relation = con.sql(sql.strip().rstrip(";"))
            except duckdb.Error as exc:
                raise EntityDataFrameError(f"SQL over the applied sources failed: {exc}") from None
            if relation is None:
                raise EntityDataFrameError(
                    f"SQL over the applied sources returns no rows: {sql!r}."
                )
            return relation.to_arrow_table()
        finally:
            con.close()

    def _register_sources(self, con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> None:
        for j, source in enumerate(sources):
            if not batch_of(source).resolve(self.root).exists():
                continue  # a push or stream source nothing landed in yet
            rel = register_source(con, source, self.root, f"__sql_src{j}")
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {quote(source.name)} AS "
                f"SELECT {zoned_columns(rel)} FROM {quote(rel.view)}"
            )


def output_names(refs: Sequence[str], full: bool) -> dict[tuple[str, str], str]:
    """(view, feature) -> output column, in request order (refs already parsed and checked)."""
    names: dict[tuple[str, str], str] = {}
    seen: dict[str, str] = {}
    for ref in refs:
        view, _, f = ref.partition(":")
        name = f"{view}__{f}" if full else f
        if name in seen:
            raise DefinitionError(
                f"feature {f!r} is requested from both {seen[name]!r} and {view!r}; pass "
                f"full_feature_names=True to name them view__feature."
            )
        seen[name] = view
        names[(view, f)] = name
    return names
