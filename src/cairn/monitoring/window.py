"""A time window of the prediction log, as the typed feature columns drift is computed on.

Monitoring reads the log through a DuckDB connection (the composition root passes one with a
``predictions`` view; a Parquet glob works too), never through serving. :func:`resolve_window`
fixes the window: it ends at the ``as_of`` asked for; without one it ends now — or, when the
deployment's log ends earlier, just after its last prediction (``anchor="last_prediction"``),
so a log that stopped (a demo, a paused deployment) does not give an empty window.
:func:`read_window` extracts each model input from the ``features`` JSON in SQL
(``json_extract_string``, no Python row loop), typed as the reference profile says: numeric
inputs as ``DOUBLE`` (JSON booleans as 0/1, anything else that is not a number as null),
categorical ones as text. Only primary rows count: a row with
``shadow`` true (a challenger's score logged under the primary's prediction id) is left out
when the log has that column.

A window can be narrowed to one **group** of the deployment's traffic: one ``model_version``,
one ``arm`` (an A/B or canary arm), and the shadow rows instead of the primary ones
(``shadow=True``); :func:`log_groups` lists the groups present in a window. Logs written
before the ``arm`` or ``shadow`` columns existed read as one primary group per version.

Example
-------
>>> import duckdb, pyarrow as pa
>>> from datetime import UTC, datetime
>>> t0, day = datetime(2026, 10, 1, tzinfo=UTC), 86_400_000_000
>>> log = pa.table({"prediction_id": ["a", "b"], "deployment": ["credit"] * 2,
...     "time": pa.array([t0, t0], pa.timestamp("us", "UTC")), "score": [0.2, 0.7],
...     "model_name": ["m"] * 2, "model_version": ["1"] * 2,
...     "features": ['{"income": 10, "job": "fixed"}', '{"income": "n/a"}']})
>>> con = duckdb.connect()
>>> con.register("predictions", log)  # doctest: +ELLIPSIS
<...>
>>> w = resolve_window(con, "credit", width=day, now=to_micros(datetime(2026, 11, 1, tzinfo=UTC)))
>>> w.anchor, from_micros(w.end).isoformat()
('last_prediction', '2026-10-01T00:00:00.000001+00:00')
>>> kinds = {"income": "numeric", "job": "categorical"}
>>> read_window(con, w, kinds).select(["income", "job"]).to_pylist()
[{'income': 10.0, 'job': 'fixed'}, {'income': None, 'job': None}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import duckdb
import pyarrow as pa

from cairn.core.errors import ConfigError, DataError
from cairn.core.timeutil import format_duration, from_micros, to_micros, utcnow
from cairn.core.types import Micros

ColumnKind = Literal["numeric", "categorical"]
Anchor = Literal["as_of", "now", "last_prediction", "empty"]

PREDICTIONS = "predictions"
BASE_COLUMNS = ("prediction_id", "time", "model_name", "model_version", "score")
"""Log columns every window keeps next to the model inputs (``time`` as µs since the epoch)."""
SEGMENT = "__segment"
"""The name of the segment column :func:`read_window` adds when asked for one."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_COLUMNS = ("features", "entity")


@dataclass(frozen=True)
class Window:
    """The slice of the log one monitoring run reads: ``start <= time < end`` (µs, UTC).

    ``as_of`` is the end asked for (or the time the run started); ``anchor`` says why the
    window ends where it does: at the ``as_of`` given, ``now``, just after the deployment's
    last prediction because its log ends before now (``last_prediction``), or now with
    nothing ever logged for the deployment (``empty``).
    """

    deployment: str
    start: Micros
    end: Micros
    as_of: Micros
    anchor: Anchor
    model_version: str | None = None
    arm: str | None = None
    shadow: bool = False

    @property
    def width(self) -> Micros:
        """``end - start`` in microseconds."""
        return self.end - self.start

    def describe(self) -> str:
        """One line: the bounds, and why the window ends where it does."""
        span = f"[{_iso(self.start)}, {_iso(self.end)}) ({format_duration(self.width)})"
        if self.anchor == "last_prediction":
            return f"{span}, ending at the last prediction (the log ends before now)"
        if self.anchor == "now":
            return f"{span}, ending now"
        if self.anchor == "empty":
            return f"{span}, ending now: nothing was ever logged for {self.deployment!r}"
        return span

    def group(self) -> str:
        """The traffic group read, e.g. ``v2 arm=canary`` (``all primary rows`` when none)."""
        parts = [f"v{self.model_version}"] if self.model_version is not None else []
        parts += [f"arm={self.arm}"] if self.arm is not None else []
        parts += ["shadow"] if self.shadow else []
        return " ".join(parts) or "all primary rows"


@dataclass(frozen=True)
class LogGroup:
    """One group of a deployment's logged traffic and its row count in a window."""

    model_name: str
    model_version: str
    arm: str | None
    shadow: bool
    rows: int


def log_groups(
    con: duckdb.DuckDBPyConnection, window: Window, *, relation: str = PREDICTIONS
) -> list[LogGroup]:
    """The (model version, arm, shadow) groups of ``window``'s deployment in ``[start, end)``,
    largest first (``window``'s own version/arm/shadow narrowing is ignored)."""
    source, params = log_source(relation)
    present = log_columns(con, source, params)
    arm = "CAST(arm AS VARCHAR)" if "arm" in present else "CAST(NULL AS VARCHAR)"
    shadow = "coalesce(shadow, false)" if "shadow" in present else "false"
    rows = con.execute(
        f"SELECT model_name, model_version, {arm} AS arm, {shadow} AS shadow, count(*) AS n "
        f"FROM {source} WHERE deployment = ? AND time >= ? AND time < ? "
        "GROUP BY ALL ORDER BY n DESC, model_version, arm NULLS FIRST, shadow",
        [*params, window.deployment, from_micros(window.start), from_micros(window.end)],
    ).fetchall()
    return [LogGroup(str(n), str(v), a, bool(s), int(c)) for n, v, a, s, c in rows]


def resolve_window(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    *,
    width: Micros,
    as_of: Micros | None = None,
    now: Micros | None = None,
    relation: str = PREDICTIONS,
    version: str | None = None,
    arm: str | None = None,
    shadow: bool = False,
) -> Window:
    """The window of ``width`` ending at ``as_of``; without one, ending ``now`` (default: the
    clock) or just after the group's last prediction when its log ends earlier. ``version``,
    ``arm`` and ``shadow`` narrow the window to one group of the traffic."""
    if width <= 0:
        raise ConfigError(f"The monitoring window must be longer than 0; got {width} µs.")
    group = Window(deployment, 0, 0, 0, "now", version, arm, shadow)
    if as_of is not None:
        return replace(group, start=as_of - width, end=as_of, as_of=as_of, anchor="as_of")
    now = to_micros(utcnow()) if now is None else now
    source, params = log_source(relation)
    where, args = group_rows(con, source, params, group)
    row = con.execute(
        f"SELECT epoch_us(max(time)) FROM {source} WHERE deployment = ? AND time <= ?" + where,
        [*params, deployment, from_micros(now), *args],
    ).fetchone()
    last = None if row is None else row[0]
    if last is None:
        return replace(group, start=now - width, end=now, as_of=now, anchor="empty")
    if int(last) + 1 < now:
        end = int(last) + 1
        return replace(group, start=end - width, end=end, as_of=now, anchor="last_prediction")
    return replace(group, start=now - width, end=now, as_of=now, anchor="now")


def read_window(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    columns: Mapping[str, ColumnKind],
    *,
    relation: str = PREDICTIONS,
    segment: str | None = None,
) -> pa.Table:
    """The window's primary rows: :data:`BASE_COLUMNS`, one typed column per model input
    (``columns``: name -> ``numeric`` | ``categorical``) and, with ``segment``, a text column
    :data:`SEGMENT` holding the segment value (``(missing)`` when a row lacks it).

    ``segment`` names a log column (``arm``, ``decision``, ...), a model input or an entity
    key (looked up in that order); one that names none of them is a :class:`DataError`.
    """
    source, params = log_source(relation)
    present = log_columns(con, source, params)
    inner = [
        "prediction_id",
        "epoch_us(time) AS time",
        "model_name",
        "model_version",
        "CAST(score AS DOUBLE) AS score",
    ]
    outer = ["prediction_id", "time", "model_name", "model_version", "score"]
    args: list[object] = []
    unique = len({name.lower() for name in columns}) == len(columns)
    if columns and unique:  # parse each row's JSON once (DuckDB struct names ignore case)
        shape = json.dumps(dict.fromkeys(columns, "VARCHAR")).replace("'", "''")
        inner.append(f"json_transform(features, '{shape}') AS __inputs")
    for i, (name, kind) in enumerate(columns.items()):
        if kind not in ("numeric", "categorical"):
            raise ConfigError(f"Column {name!r} must be numeric or categorical; got {kind!r}.")
        if unique:
            raw = f"__inputs.{_quote(name)}"
        else:
            raw = f"json_extract_string(features, {_literal(_path(name))})"
        if kind == "numeric":
            raw = (
                f"coalesce(TRY_CAST({raw} AS DOUBLE), "
                f"CASE {raw} WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0 END)"
            )
        # positional aliases: DuckDB names ignore case, the model's inputs may not
        if unique:
            outer.append(f"{raw} AS __c{i}")
        else:
            inner.append(f"{raw} AS __c{i}")
            outer.append(f"__c{i}")
    if segment is not None:
        expr, args = _segment(segment, present)
        inner.append(f"coalesce({expr}, '(missing)') AS {SEGMENT}")
        outer.append(SEGMENT)
    where, group_args = group_rows(con, source, params, window)
    sql = (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {source} "
        "WHERE deployment = ? AND time >= ? AND time < ?" + where + ") ORDER BY time, prediction_id"
    )
    table = con.sql(
        sql,
        params=[
            *args,
            *params,
            window.deployment,
            from_micros(window.start),
            from_micros(window.end),
            *group_args,
        ],
    ).to_arrow_table()
    table = table.rename_columns(
        [*BASE_COLUMNS, *columns, *([SEGMENT] if segment is not None else [])]
    )
    if segment is not None and table.num_rows:
        values = table.column(SEGMENT)
        if values.null_count == 0 and set(values.unique().to_pylist()) == {"(missing)"}:
            raise DataError(
                f"Segment column {segment!r} is not a log column, model input or entity key "
                f"of deployment {window.deployment!r} (no row of the window has it); log "
                f"columns: {', '.join(c for c in present if c not in _JSON_COLUMNS)}; model "
                f"inputs: {', '.join(columns) or 'none'}."
            )
    return table


def _segment(name: str, present: list[str]) -> tuple[str, list[object]]:
    if name in present and name not in _JSON_COLUMNS:
        return f"CAST({_quote(name)} AS VARCHAR)", []
    return (
        "coalesce(json_extract_string(features, ?), json_extract_string(entity, ?))",
        [_path(name), _path(name)],
    )


def log_source(relation: str) -> tuple[str, list[object]]:
    """A relation name as it is, or a Parquet path/glob read with ``read_parquet``."""
    if _IDENTIFIER.match(relation):
        return relation, []
    if relation.endswith(".parquet"):
        return "read_parquet(?, union_by_name = true)", [relation]
    raise ConfigError(
        f"The prediction log must be a relation name (e.g. predictions) or a Parquet path or "
        f"glob ending in .parquet; got {relation!r}."
    )


def log_columns(con: duckdb.DuckDBPyConnection, source: str, params: list[object]) -> list[str]:
    try:
        cursor = con.execute(f"SELECT * FROM {source} LIMIT 0", params)
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the prediction log {source}: {exc}") from None
    return [d[0] for d in cursor.description or []]


def primary_rows(con: duckdb.DuckDBPyConnection, source: str, params: list[object]) -> str:
    """The filter keeping primary rows: shadow scores are not traffic the model decided."""
    return (
        " AND NOT coalesce(shadow, false)" if "shadow" in log_columns(con, source, params) else ""
    )


def group_rows(
    con: duckdb.DuckDBPyConnection, source: str, params: list[object], window: Window
) -> tuple[str, list[object]]:
    """The filter (`` AND ...`` and its parameters) keeping ``window``'s group: primary rows
    (or shadow rows with ``window.shadow``), of its ``model_version`` and ``arm`` when set.
    A log without an ``arm`` (or ``shadow``) column has no row of a named arm (or shadow)."""
    present = log_columns(con, source, params)
    if "shadow" in present:
        where = " AND " + ("" if window.shadow else "NOT ") + "coalesce(shadow, false)"
    else:
        where = " AND false" if window.shadow else ""
    args: list[object] = []
    if window.model_version is not None:
        where += " AND model_version = ?"
        args.append(window.model_version)
    if window.arm is not None:
        where += " AND CAST(arm AS VARCHAR) = ?" if "arm" in present else " AND false"
        args += [window.arm] if "arm" in present else []
    return where, args


def _path(name: str) -> str:
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _iso(us: Micros) -> str:
    return from_micros(us).isoformat().replace("+00:00", "Z")
