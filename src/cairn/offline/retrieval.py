"""Training-set retrieval: entity rows + feature refs -> one DuckDB query, run lazily."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.errors import EntityDataFrameError
from cairn.core.manifest import TrainingSetManifest
from cairn.core.timeutil import from_micros
from cairn.core.types import Dtype, dtype_of_sql
from cairn.features.feature_view import FeatureView
from cairn.offline.connection import literal, quote
from cairn.offline.entities import EntityRows
from cairn.offline.snapshot import snapshot_cte, snapshot_join, snapshot_value
from cairn.offline.sources import SourceRelation
from cairn.offline.windows import window_cte, window_join, window_value


@dataclass(frozen=True)
class ViewRequest:
    """The features wanted from one view, with the view's registered source."""

    view: FeatureView
    features: list[str]
    relation: SourceRelation
    source_types: dict[str, Dtype]


def build_query(
    entities: EntityRows,
    requests: Sequence[ViewRequest],
    output_names: dict[tuple[str, str], str],
    *,
    with_entity_columns: bool,
) -> str:
    """The SQL returning ``__row`` (or the entity columns) and every requested feature."""
    ctes, joins = [], []
    exprs: dict[tuple[str, str], str] = {}
    for i, req in enumerate(requests):
        alias = f"__v{i}"
        _check_key_types(req, entities)
        view = req.view
        if view.is_windowed:
            aggs = [a for a in view.aggregations if a.name in req.features]
            ctes.append(
                f"{alias} AS ({window_cte(view, req.relation.view, aggs, req.source_types)})"
            )
            joins.append(window_join(view, alias))
            by_name = {a.name: a for a in aggs}
            values = {f: window_value(alias, by_name[f]) for f in req.features}
        else:
            ctes.append(f"{alias} AS ({snapshot_cte(view, req.relation.view, req.features)})")
            joins.append(snapshot_join(view, alias))
            values = {f: snapshot_value(view, alias, f) for f in req.features}
        exprs.update({(view.name, f): values[f] for f in req.features})
    # output_names is in request order: columns come out as the features were asked for
    outputs = [f"{exprs[ref]} AS {quote(name)}" for ref, name in output_names.items()]
    head = "e.* EXCLUDE (__row, __t)" if with_entity_columns else "e.__row"
    return (
        f"WITH {', '.join(ctes)} SELECT {head}, {', '.join(outputs)} "
        f"FROM __entities e {' '.join(joins)} ORDER BY e.__row"
    )


def _check_key_types(req: ViewRequest, entities: EntityRows) -> None:
    for key in req.view.join_keys:
        mine, theirs = dtype_of_sql(entities.types[key]), dtype_of_sql(req.relation.columns[key])
        if mine != theirs:
            raise EntityDataFrameError(
                f"entity_df column {key!r} is {entities.types[key]}, but view {req.view.name!r} "
                f"joins it to source column {key!r} of type {req.relation.columns[key]}; "
                f"convert the entity column to match."
            )


class RetrievalJob:
    """A training set, computed when asked for: ``to_df()``, ``to_arrow()``, ``to_parquet()``.

    ``manifest`` describes exactly what it was built from.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        entities: EntityRows,
        requests: Sequence[ViewRequest],
        output_names: dict[tuple[str, str], str],
        manifest: Callable[[int, dict[str, Any]], TrainingSetManifest],
    ) -> None:
        self._con = con
        self._entities = entities
        self._requests = list(requests)
        self._names = output_names
        self._make_manifest = manifest
        self._manifest: TrainingSetManifest | None = None
        self._query = build_query(
            entities, requests, output_names, with_entity_columns=entities.frame is None
        )

    @property
    def sql(self) -> str:
        """The DuckDB query that computes the training set."""
        return self._query

    def to_arrow(self) -> pa.Table:
        """The training set as an Arrow table, entity rows in their given order."""
        table = self._con.sql(self._query).to_arrow_table()
        if self._entities.table is None:
            return table
        entity = self._entities.table
        for name in table.column_names[1:]:
            entity = entity.append_column(name, table.column(name))
        return entity

    def to_df(self) -> pd.DataFrame:
        """The training set as a pandas DataFrame (entity columns first, then the features)."""
        features: pd.DataFrame = self._con.sql(self._query).df()
        if self._entities.frame is None:
            return features
        features = features.drop(columns="__row")
        entity = self._entities.frame.reset_index(drop=True)
        out: pd.DataFrame = pd.concat([entity, features], axis=1)
        return out

    def to_parquet(self, path: str | Path) -> Path:
        """Write the training set to one Parquet file, streaming (out of core) when the entity
        rows came from a file or SQL."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if self._entities.frame is None:
            self._con.execute(f"COPY ({self._query}) TO {literal(str(out))} (FORMAT parquet)")
        else:
            pq.write_table(self.to_arrow(), out)
        return out

    @property
    def manifest(self) -> TrainingSetManifest:
        """What this training set was built from (computed once, on first access)."""
        if self._manifest is None:
            row = self._con.execute(
                "SELECT count(*), min(__t), max(__t) FROM __entities"
            ).fetchall()[0]
            assert row is not None
            rows, lo, hi = int(row[0]), row[1], row[2]
            entity = {
                "rows": rows,
                "columns": self._entities.columns,
                "start": None if lo is None else from_micros(lo).isoformat(),
                "end": None if hi is None else from_micros(hi).isoformat(),
                "sha256": self._entity_hash(),
            }
            self._manifest = self._make_manifest(rows, entity)
        return self._manifest

    def _entity_hash(self) -> str:
        digest = hashlib.sha256()
        cols = ", ".join(quote(c) for c in self._entities.columns)
        reader = self._con.sql(f"SELECT {cols} FROM __entities ORDER BY __row").to_arrow_reader(
            1 << 16
        )
        digest.update(reader.schema.serialize().to_pybytes())
        for batch in reader:
            digest.update(batch.serialize().to_pybytes())
        return digest.hexdigest()


def manifest_factory(
    project: str,
    refs: list[str],
    views: dict[str, dict[str, Any]],
    sources: Callable[[], dict[str, dict[str, Any]]],
    full_names: bool,
    version: str,
) -> Callable[[int, dict[str, Any]], TrainingSetManifest]:
    """A callback building the manifest once the entity rows are counted."""
    created = datetime.now(UTC)

    def make(rows: int, entity: dict[str, Any]) -> TrainingSetManifest:
        return TrainingSetManifest(
            project=project,
            feature_refs=refs,
            feature_views=views,
            sources=sources(),
            entity=entity,
            row_count=rows,
            created_at=created,
            full_feature_names=full_names,
            cairn_version=version,
        )

    return make
