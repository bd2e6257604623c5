"""Sufficient statistics per arm (and per segment) from ONE DuckDB query over the log.

The query reads the view ``predictions`` (primary rows only: ``shadow`` false or absent) joined
with ``outcomes`` (by prediction id; outcomes keyed by entity + event time attach to the
entity's latest prediction at or before the event), keeps what was known at ``as_of``, pools
each unit's rows (``unit_id``, else the prediction id) into one value per metric, then sums
units per arm: n, sum, sum of squares; for a metric that declares a CUPED covariate
(:mod:`cairn.experiments.covariates`) the unit's covariate over its non-experiment predictions
in the pre-period window before ``start`` and the cross-product; for ratios the denominator
sums and the numerator x denominator cross-product; mature and labeled units per maturity
window. Units seen in more than one arm are excluded and counted. No Python touches a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from cairn.core.errors import DataError
from cairn.core.predictions import positive_sql
from cairn.experiments.covariates import PRE_PERIOD_STRATEGIES
from cairn.experiments.maturity import maturity_cutoff
from cairn.experiments.metrics import Metric, reads_outcome, with_covariates
from cairn.experiments.segments import MISSING, OTHER, Dimension


@dataclass(frozen=True)
class MetricSums:
    """One metric's sums over one arm's units (ratio and CUPED fields zero when unused)."""

    n: int
    sum: float
    sum_squares: float
    pre_n: int = 0
    pre_sum: float = 0.0
    pre_sum_squares: float = 0.0
    post_pre_sum_of_products: float = 0.0
    d_sum: float = 0.0
    d_sum_squares: float = 0.0
    m_d_sum_of_products: float = 0.0
    mature_units: int = 0
    labeled_units: int = 0


@dataclass(frozen=True)
class ArmSums:
    """The units of one arm (in one segment, or overall when ``segment`` is None)."""

    arm: str
    units: int
    metrics: dict[str, MetricSums]
    segment: str | None = None


@dataclass(frozen=True)
class SufficientStatistics:
    """What :func:`sufficient_statistics` read: overall arms, segment arms, excluded units."""

    arms: list[ArmSums]
    segments: list[ArmSums] = field(default_factory=list)
    multiple_exposures: int = 0
    """Units seen in more than one arm during the experiment (excluded)."""


def log_columns(con: duckdb.DuckDBPyConnection, view: str = "predictions") -> list[str]:
    """The columns of a view, or a :class:`DataError` naming it when it does not exist.

    Example
    -------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT 1 AS score, 'a' AS arm")
    >>> log_columns(con)
    ['score', 'arm']
    """
    try:
        cursor = con.execute(f'SELECT * FROM "{view}" LIMIT 0')
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the view {view!r} of the prediction log: {exc}") from None
    return [d[0] for d in cursor.description or []]


def labels_sql(*, entity_outcomes: bool = True) -> str:
    """CTEs ``o`` (outcomes known at ``$as_of``) and ``labels`` (one label per prediction id).

    They need a CTE ``base`` with ``prediction_id``, ``entity`` and ``time``. The latest
    observation wins; an outcome keyed by entity + event time labels the entity's latest
    prediction at or before the event (unless that prediction has an outcome by id).
    """
    by_entity = ""
    if entity_outcomes:
        by_entity = """
 UNION ALL
 SELECT p.prediction_id, arg_max(o.label, o.observed_at), max(o.observed_at)
 FROM (SELECT * FROM o WHERE prediction_id IS NULL AND entity IS NOT NULL) o
 ASOF JOIN (SELECT prediction_id, entity, time FROM base) p
   ON o.entity = p.entity AND o.event_time >= p.time
 WHERE p.prediction_id NOT IN (SELECT prediction_id FROM o WHERE prediction_id IS NOT NULL)
 GROUP BY p.prediction_id"""
    return f"""
o AS (
 SELECT * FROM outcomes
 WHERE observed_at <= $as_of AND (deployment IS NULL OR deployment = $deployment)
),
labels AS (
 SELECT prediction_id, arg_max(label, observed_at) AS label, max(observed_at) AS observed_at
 FROM o WHERE prediction_id IS NOT NULL GROUP BY prediction_id{by_entity}
)"""


def missing_columns(columns: Sequence[str]) -> str:
    """Defaults for columns older logs lack: ``error`` null, ``shadow`` false, ``seed`` null,
    ``exposed`` true, ``positive`` null (:func:`base_sql` reads it from the decision then).

    Example
    -------
    >>> missing_columns(["prediction_id", "shadow", "seed", "exposed", "positive"])
    ', CAST(NULL AS VARCHAR) AS error'
    """
    defaults = {
        "error": "CAST(NULL AS VARCHAR) AS error",
        "shadow": "FALSE AS shadow",
        "seed": "CAST(NULL AS VARCHAR) AS seed",
        "exposed": "TRUE AS exposed",
        "positive": "CAST(NULL AS BOOLEAN) AS positive",
    }
    extra = [sql for name, sql in defaults.items() if name not in columns]
    return "".join(f", {e}" for e in extra)


def base_sql(
    columns: Sequence[str],
    *,
    entity_outcomes: bool = True,
    labels: bool = True,
    seeded: bool = False,
) -> str:
    """CTEs ``base`` (primary rows of the deployment up to ``$as_of``), ``labels`` and ``rows``.

    Parameters are ``$deployment``, ``$as_of`` and ``$start`` (and ``$seed`` when ``seeded``);
    ``rows`` adds ``unit``, ``label``, ``observed_at``, ``in_exp`` (from ``$start`` on, exposed,
    of the experiment ``$seed``) and ``in_pre`` (before ``$start`` and assigned by no experiment:
    no seed, strategy single or blue-green; the CUPED pre-period before each covariate's window)
    to the prediction columns; other rows count for nothing. ``positive`` is never null in ``base``:
    rows logged before the column existed read it from their (credit) decision. Without
    ``labels`` (no metric reads outcomes) the outcome columns are null and not joined.
    """
    experiment = "time >= $start AND coalesce(exposed, TRUE)" + (
        " AND seed = $seed" if seeded else ""
    )
    unassigned = "seed IS NULL"
    if "strategy" in columns:
        allowed = ", ".join(f"'{k}'" for k in PRE_PERIOD_STRATEGIES)
        unassigned += f" AND coalesce(strategy, 'single') IN ({allowed})"
    flags = f"({experiment}) AS in_exp, (time < $start AND {unassigned}) AS in_pre"
    if labels:
        outcomes = f"{labels_sql(entity_outcomes=entity_outcomes)},"
        rows = f"SELECT b.*, l.label, l.observed_at, {flags}\n FROM base b "
        rows += "LEFT JOIN labels l USING (prediction_id)"
    else:
        outcomes = ""
        rows = "SELECT *, CAST(NULL AS DOUBLE) AS label, CAST(NULL AS TIMESTAMPTZ) AS observed_at,"
        rows += f" {flags} FROM base"
    positive = positive_sql([*columns, "positive"])
    return f"""
base AS (
 SELECT * REPLACE ({positive} AS positive), coalesce(unit_id, prediction_id) AS unit
 FROM (SELECT *{missing_columns(columns)} FROM predictions)
 WHERE deployment = $deployment AND NOT coalesce(shadow, FALSE) AND time <= $as_of
),{outcomes}
rows AS (
 {rows}
)"""


def _unit_columns(metrics: Sequence[Metric], windows: dict[int, str]) -> list[str]:
    cols = []
    for i, m in enumerate(metrics):
        mat = f"time <= $cut{windows[m.maturity]}"
        value = f"CAST(({m.sql}) AS DOUBLE)"
        if m.kind == "ratio":
            den = f"CAST(({m.denominator}) AS DOUBLE)"
            cols.append(f"sum(CASE WHEN in_exp AND {mat} THEN {value} END) AS n{i}")
            cols.append(f"sum(CASE WHEN in_exp AND {mat} THEN {den} END) AS d{i}")
            continue
        agg = "max" if m.kind == "proportion" else m.unit_aggregate
        cols.append(f"{agg}(CASE WHEN in_exp AND {mat} THEN {value} END) AS v{i}")
        if m.cuped is not None:
            pre = f"CAST(({m.cuped.sql}) AS DOUBLE)"
            window = f"in_pre AND time >= $pre{i} AND {mat}"
            cols.append(f"{m.cuped.unit_aggregate}(CASE WHEN {window} THEN {pre} END) AS p{i}")
        else:
            cols.append(f"CAST(NULL AS DOUBLE) AS p{i}")
    labeled = {windows[m.maturity] for m in metrics if m.uses_outcome}
    for k in windows.values():
        cols.append(f"bool_or(in_exp AND time <= $cut{k}) AS mat{k}")
        if k in labeled:
            cols.append(f"bool_or(in_exp AND time <= $cut{k} AND label IS NOT NULL) AS lab{k}")
    return cols


def _arm_columns(metrics: Sequence[Metric], windows: dict[int, str]) -> list[str]:
    cols = ["count(*) AS units"]
    for i, m in enumerate(metrics):
        if m.kind == "ratio":
            num, has = f"coalesce(n{i}, 0)", f"d{i} IS NOT NULL"
            cols += [
                f"count(d{i}) AS m{i}_n",
                f"sum({num}) FILTER (WHERE {has}) AS m{i}_sum",
                f"sum({num} * {num}) FILTER (WHERE {has}) AS m{i}_sum_squares",
                f"sum(d{i}) AS m{i}_d_sum",
                f"sum(d{i} * d{i}) AS m{i}_d_sum_squares",
                f"sum({num} * d{i}) AS m{i}_m_d_sum_of_products",
            ]
        else:
            pre, has = f"coalesce(p{i}, 0)", f"v{i} IS NOT NULL"
            cols += [
                f"count(v{i}) AS m{i}_n",
                f"sum(v{i}) AS m{i}_sum",
                f"sum(v{i} * v{i}) AS m{i}_sum_squares",
                f"count(p{i}) FILTER (WHERE {has}) AS m{i}_pre_n",
                f"sum({pre}) FILTER (WHERE {has}) AS m{i}_pre_sum",
                f"sum({pre} * {pre}) FILTER (WHERE {has}) AS m{i}_pre_sum_squares",
                f"sum(v{i} * {pre}) AS m{i}_post_pre_sum_of_products",
            ]
        k = windows[m.maturity]
        cols.append(f"count(*) FILTER (WHERE mat{k}) AS m{i}_mature_units")
        labeled = f"count(*) FILTER (WHERE lab{k})" if m.uses_outcome else "0"
        cols.append(f"{labeled} AS m{i}_labeled_units")
    return cols


def statistics_sql(
    columns: Sequence[str],
    metrics: Sequence[Metric],
    dimension: Dimension | None = None,
    *,
    entity_outcomes: bool = True,
    seeded: bool = False,
) -> str:
    """The one query behind :func:`sufficient_statistics` (for reading and testing)."""
    windows = {w: str(k) for k, w in enumerate(dict.fromkeys(m.maturity for m in metrics))}
    seg = f"arg_min({dimension.sql}, time) FILTER (WHERE in_exp)" if dimension else "NULL"
    arm = "min(arm) FILTER (WHERE in_exp)"
    units = ",\n ".join(
        [
            f"CASE WHEN {arm} = max(arm) FILTER (WHERE in_exp) THEN {arm} END AS arm",
            f"coalesce({seg}, '{MISSING}') AS seg",
            *_unit_columns(metrics, windows),
        ]
    )
    arms = ",\n ".join(_arm_columns(metrics, windows))
    if dimension is None:
        tail = f"SELECT arm, NULL AS seg, 1 AS overall,\n {arms}\nFROM units GROUP BY arm"
    else:
        tail = f"""tops AS (
 SELECT seg FROM units WHERE arm IS NOT NULL GROUP BY seg
 ORDER BY count(*) DESC, seg LIMIT {dimension.max_segments}
),
capped AS (
 SELECT * REPLACE (CASE WHEN seg IN (SELECT seg FROM tops) THEN seg ELSE '{OTHER}' END AS seg)
 FROM units
)
SELECT arm, seg, GROUPING(seg) AS overall,
 {arms}
FROM capped GROUP BY GROUPING SETS ((arm), (arm, seg))"""
    labels = any(m.uses_outcome or (m.cuped and reads_outcome(m.cuped.sql)) for m in metrics)
    ctes = base_sql(columns, entity_outcomes=entity_outcomes, labels=labels, seeded=seeded)
    with_units = f"""WITH {ctes},
units AS MATERIALIZED (
 SELECT unit,
 {units}
 FROM rows GROUP BY unit HAVING bool_or(in_exp)
)"""
    if dimension is None:
        return f"{with_units}\n{tail}"
    return f"{with_units},\n{tail}"


def sufficient_statistics(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    metrics: Sequence[Metric],
    *,
    start: datetime,
    as_of: datetime,
    dimension: Dimension | None = None,
    seed: str | None = None,
) -> SufficientStatistics:
    """Sums per arm (and per segment) for ``metrics`` over ``deployment``'s log.

    Parameters
    ----------
    con
        A connection with the views ``predictions`` and ``outcomes``.
    start
        The experiment start: earlier predictions are the CUPED pre-period.
    as_of
        Nothing logged or observed after it counts; maturity is measured against it.
    dimension
        Optional segment dimension (capped to its ``max_segments`` largest values).
    seed
        The experiment (its assignment seed in the log): from ``start`` on only its exposed
        rows count. None: every exposed row from ``start`` on.

    Example
    -------
    >>> from datetime import UTC
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT * FROM (VALUES "
    ...   "('p1', TIMESTAMPTZ '2026-01-02', 'credit', 'a', 'u1', 'approve', 0.1), "
    ...   "('p2', TIMESTAMPTZ '2026-01-02', 'credit', 'b', 'u2', 'decline', 0.7)) "
    ...   "t(prediction_id, time, deployment, arm, unit_id, decision, score)")
    >>> _ = con.execute("CREATE VIEW outcomes AS SELECT 'p1' AS prediction_id, "
    ...   "NULL::VARCHAR AS entity, NULL::TIMESTAMPTZ AS event_time, 'credit' AS deployment, "
    ...   "0.0 AS label, TIMESTAMPTZ '2026-01-03' AS observed_at")
    >>> from cairn.experiments.metrics import BUILTIN_METRICS as B
    >>> stats = sufficient_statistics(con, "credit", [B["negative_rate"]],
    ...     start=datetime(2026, 1, 1, tzinfo=UTC), as_of=datetime(2026, 2, 1, tzinfo=UTC))
    >>> [(a.arm, a.units, a.metrics["negative_rate"].sum) for a in stats.arms]
    [('a', 1, 1.0), ('b', 1, 0.0)]
    """
    metrics = with_covariates(metrics)
    columns = log_columns(con)
    params: dict[str, Any] = {"deployment": deployment, "as_of": as_of, "start": start}
    if seed is not None:
        params["seed"] = seed
    for k, window in enumerate(dict.fromkeys(m.maturity for m in metrics)):
        params[f"cut{k}"] = maturity_cutoff(as_of, window)
    for i, m in enumerate(metrics):
        if m.cuped is not None:
            params[f"pre{i}"] = start - timedelta(microseconds=m.cuped.window)
    entity_outcomes = has_entity_outcomes(con)
    check_expressions(con, columns, metrics, dimension, params, entity_outcomes)
    sql = statistics_sql(
        columns, metrics, dimension, entity_outcomes=entity_outcomes, seeded=seed is not None
    )
    try:
        cursor = con.execute(sql, params)
    except duckdb.Error as exc:
        raise DataError(f"The experiment query over the prediction log failed: {exc}") from None
    names = [d[0] for d in cursor.description or []]
    overall: list[ArmSums] = []
    segments: list[ArmSums] = []
    excluded = 0
    for raw in cursor.fetchall():
        row = dict(zip(names, raw, strict=True))
        if row["arm"] is None:
            excluded += int(row["units"]) if row["overall"] else 0
            continue
        sums = {m.name: _metric_sums(row, i) for i, m in enumerate(metrics)}
        arm = ArmSums(str(row["arm"]), int(row["units"]), sums, None)
        if row["overall"]:
            overall.append(arm)
        else:
            segments.append(ArmSums(arm.arm, arm.units, sums, str(row["seg"])))
    overall.sort(key=lambda a: a.arm)
    segments.sort(key=lambda a: (a.segment or "", a.arm))
    return SufficientStatistics(overall, segments, excluded)


def check_expressions(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[str],
    metrics: Sequence[Metric],
    dimension: Dimension | None,
    params: dict[str, Any],
    entity_outcomes: bool = True,
) -> None:
    """Plan each metric's SQL, so a typo names its metric instead of failing the query.

    Every expression is planned in one query first (one plan instead of one per expression:
    what a dashboard page that analyses on each request pays); only when that fails is each
    planned alone, to name the one at fault.
    """
    seeded = "seed" in params
    prefix = f"WITH {base_sql(columns, entity_outcomes=entity_outcomes, seeded=seeded)}\n"
    probes = [(f"Metric {m.name!r}", m.sql) for m in metrics]
    probes += [(f"Metric {m.name!r} denominator", m.denominator) for m in metrics if m.denominator]
    probes += [(f"Metric {m.name!r} cuped covariate", m.cuped.sql) for m in metrics if m.cuped]
    if dimension is not None:
        probes.append((f"Segment {dimension.name!r}", dimension.sql))
    used = {k: v for k, v in params.items() if not k.startswith(("cut", "pre"))}
    every = ", ".join(f"CAST(({expression}) AS DOUBLE)" for _, expression in probes)
    try:
        con.execute(f"{prefix}SELECT {every} FROM rows LIMIT 0", used)
        return
    except duckdb.Error:
        pass  # one of them is at fault: plan each alone to name it
    for owner, expression in probes:
        try:
            con.execute(f"{prefix}SELECT CAST(({expression}) AS DOUBLE) FROM rows LIMIT 0", used)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise DataError(f"{owner}: the SQL {expression!r} is not valid here: {first}") from None


def has_entity_outcomes(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any outcome is keyed by entity + event time (then the ASOF join is needed).

    Example
    -------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW outcomes AS SELECT NULL AS prediction_id, "
    ...                 "'{\\"customer_id\\": 1}' AS entity")
    >>> has_entity_outcomes(con)
    True
    """
    try:
        row = con.execute(
            "SELECT count(*) FROM outcomes WHERE prediction_id IS NULL AND entity IS NOT NULL"
        ).fetchone()
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the view 'outcomes' of the outcome log: {exc}") from None
    return bool(row and row[0])


def _metric_sums(row: dict[str, Any], i: int) -> MetricSums:
    def num(key: str) -> float:
        value = row.get(f"m{i}_{key}")
        return float(value) if value is not None else 0.0

    return MetricSums(
        n=int(num("n")),
        sum=num("sum"),
        sum_squares=num("sum_squares"),
        pre_n=int(num("pre_n")),
        pre_sum=num("pre_sum"),
        pre_sum_squares=num("pre_sum_squares"),
        post_pre_sum_of_products=num("post_pre_sum_of_products"),
        d_sum=num("d_sum"),
        d_sum_squares=num("d_sum_squares"),
        m_d_sum_of_products=num("m_d_sum_of_products"),
        mature_units=int(num("mature_units")),
        labeled_units=int(num("labeled_units")),
    )
