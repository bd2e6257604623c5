"""Shadow pairs: the champion's logged decision and a challenger's shadow score, per request.

A shadow challenger scores the same request off the request path and is logged under the
primary's ``prediction_id`` with ``shadow`` true. One query joins each primary row with the
challenger's row and the outcome known at ``as_of`` and returns columns (NumPy arrays), never
Python rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from numpy.typing import NDArray

from cairn.core.errors import ConfigError, DataError
from cairn.experiments.aggregate import (
    has_entity_outcomes,
    labels_sql,
    log_columns,
    missing_columns,
)
from cairn.experiments.maturity import maturity_cutoff


@dataclass(frozen=True)
class ShadowPairs:
    """Columns of the champion/challenger pairs (one entry per request)."""

    champion: str
    challenger: str
    champion_score: NDArray[np.float64]
    challenger_score: NDArray[np.float64]
    champion_latency: NDArray[np.float64]
    challenger_latency: NDArray[np.float64]
    label: NDArray[np.float64]
    """NaN where no outcome was observed by ``as_of`` or the request is not mature."""
    group: NDArray[Any] | None = None
    excluded: int = 0
    """Pairs left out because the primary row came from another model than the champion."""

    def __len__(self) -> int:
        return len(self.champion_score)


def shadow_models(con: duckdb.DuckDBPyConnection, deployment: str) -> list[tuple[str, str, int]]:
    """``(model_name, model_version, rows)`` of the shadow rows of ``deployment``, latest first."""
    columns = log_columns(con)
    if "shadow" not in columns:
        return []
    rows = con.execute(
        "SELECT model_name, model_version, count(*) FROM predictions "
        "WHERE deployment = ? AND coalesce(shadow, FALSE) GROUP BY 1, 2 ORDER BY max(time) DESC",
        [deployment],
    ).fetchall()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


def pick_challenger(
    con: duckdb.DuckDBPyConnection, deployment: str, wanted: str | None
) -> tuple[str, str]:
    """The challenger ``(name, version)``: as named (``NAME`` or ``NAME/VERSION``; a bare name
    takes its latest shadow version), or the only shadow model of the deployment."""
    found = shadow_models(con, deployment)
    if not found:
        raise DataError(f"Deployment {deployment!r} has no shadow predictions to compare with.")
    if wanted is None:
        names = {name for name, _, _ in found}
        if len(names) > 1:
            raise ConfigError(
                f"Deployment {deployment!r} has several shadow models; choose one with "
                f"--challenger: {', '.join(sorted(names))}."
            )
        return found[0][0], found[0][1]
    name, _, version = wanted.partition("/")
    for n, v, _ in found:
        if n == name and (not version or v == version):
            return n, v
    known = ", ".join(f"{n}/{v}" for n, v, _ in found)
    raise ConfigError(
        f"No shadow predictions of {wanted!r} in deployment {deployment!r}; found {known}."
    )


def load_pairs(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    challenger: tuple[str, str],
    *,
    as_of: datetime,
    maturity: int = 0,
    start: datetime | None = None,
    protected: Path | None = None,
    attribute: str | None = None,
    key: str | None = None,
) -> ShadowPairs:
    """The pairs of ``deployment`` with ``challenger``'s shadow scores up to ``as_of``.

    ``maturity`` (µs): labels count only for requests at least that old. With ``protected``
    (a Parquet or CSV file) each pair gets the ``attribute`` of its entity, joined on ``key``
    (an entity key also a column of the file; default: the file's only other column).
    """
    columns = log_columns(con)
    params: dict[str, Any] = {
        "deployment": deployment,
        "as_of": as_of,
        "start": start or datetime(1970, 1, 1, tzinfo=as_of.tzinfo),
        "cut": maturity_cutoff(as_of, maturity),
        "name": challenger[0],
        "version": challenger[1],
    }
    group_sql, join_sql = "NULL", ""
    if protected is not None:
        key, attribute = _protected_columns(con, protected, attribute, key)
        params["protected"] = str(protected)
        join_sql = (
            f'LEFT JOIN (SELECT CAST("{key}" AS VARCHAR) AS k, any_value(CAST("{attribute}" '
            f"AS VARCHAR)) AS g FROM {_reader(protected)}($protected) GROUP BY 1) a "
            f"ON a.k = json_extract_string(c.entity, '$.\"{key}\"')"
        )
        group_sql = "a.g"
    outcomes = labels_sql(entity_outcomes=has_entity_outcomes(con))
    sql = f"""
WITH p AS (
 SELECT *{missing_columns(columns)} FROM predictions
 WHERE deployment = $deployment AND time <= $as_of AND time >= $start
),
base AS (SELECT * FROM p WHERE NOT coalesce(shadow, FALSE)),{outcomes},
h AS (
 SELECT prediction_id, any_value(score) AS score, any_value(latency_ms) AS latency_ms FROM p
 WHERE coalesce(shadow, FALSE) AND model_name = $name AND model_version = $version
 GROUP BY prediction_id
)
SELECT c.model_name || '/' || c.model_version AS champion, c.score AS champion_score,
 h.score AS challenger_score, c.latency_ms AS champion_latency,
 h.latency_ms AS challenger_latency,
 CASE WHEN c.time <= $cut THEN l.label END AS label, {group_sql} AS grp
FROM base c JOIN h USING (prediction_id) LEFT JOIN labels l USING (prediction_id) {join_sql}
WHERE c.score IS NOT NULL AND h.score IS NOT NULL
"""
    try:
        data = con.execute(sql, params).fetchnumpy()
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the shadow pairs of {deployment!r}: {exc}") from None
    models = np.asarray(data["champion"], dtype=object)
    champion, keep, excluded = _champion(models)

    def col(name: str) -> NDArray[np.float64]:
        values = np.ma.filled(np.ma.asarray(data[name], dtype=np.float64), np.nan)
        return np.asarray(values, dtype=np.float64)[keep]

    group = np.asarray(data["grp"], dtype=object)[keep] if protected is not None else None
    return ShadowPairs(
        champion=champion,
        challenger=f"{challenger[0]}/{challenger[1]}",
        champion_score=col("champion_score"),
        challenger_score=col("challenger_score"),
        champion_latency=col("champion_latency"),
        challenger_latency=col("challenger_latency"),
        label=col("label"),
        group=group,
        excluded=excluded,
    )


def _champion(models: NDArray[Any]) -> tuple[str, NDArray[np.bool_], int]:
    """The most common primary model among the pairs, and which pairs it served."""
    if len(models) == 0:
        return "-", np.zeros(0, dtype=bool), 0
    names, counts = np.unique(models.astype(str), return_counts=True)
    champion = str(names[int(np.argmax(counts))])
    keep = models.astype(str) == champion
    return champion, keep, int((~keep).sum())


def _protected_columns(
    con: duckdb.DuckDBPyConnection, path: Path, attribute: str | None, key: str | None
) -> tuple[str, str]:
    if not path.is_file():
        raise ConfigError(f"No protected-attribute file {path}.")
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise ConfigError(f"The protected-attribute file {path} must be .parquet or .csv.")
    try:
        cursor = con.execute(f"SELECT * FROM {_reader(path)}(?) LIMIT 0", [str(path)])
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the protected-attribute file {path}: {exc}") from None
    names = [d[0] for d in cursor.description or []]
    if attribute is None or attribute not in names:
        raise ConfigError(
            f"The protected-attribute file {path} has no column {attribute!r}; columns: "
            f"{', '.join(names)} (choose one with --attribute)."
        )
    others = [n for n in names if n != attribute]
    if key is None:
        if len(others) != 1:
            raise ConfigError(
                f"Name the entity key column of {path} (one of {', '.join(others)}) with --key."
            )
        key = others[0]
    if key not in others:
        raise ConfigError(f"The protected-attribute file {path} has no key column {key!r}.")
    for name in (key, attribute):
        if '"' in name or "'" in name:
            raise ConfigError(f"Column {name!r} of {path} must not contain quotes.")
    return key, attribute


def _reader(path: Path) -> str:
    """The DuckDB table function that reads the protected-attribute file."""
    return "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv_auto"
