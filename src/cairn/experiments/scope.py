"""Which rows of a deployment's log are the experiment: its seed, its start, its pre-period.

A deployment's log holds its whole history (a single model, a shadow, an A/B test, canaries).
Serving logs each canary's or A/B test's assignment ``seed``, so an experiment is the rows
with one seed; it starts at its first row, and the deployment's earlier rows are the CUPED
pre-period. Logs without seeds fall back to the strategy: the experiment started when the
deployment switched to the strategy of its latest prediction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from cairn.core.errors import ConfigError, DataError
from cairn.experiments.aggregate import log_columns


@dataclass(frozen=True)
class LoggedExperiment:
    """One experiment found in the log: its seed, strategy, arms and time span."""

    seed: str
    strategy: str
    arms: tuple[str, ...]
    start: datetime
    end: datetime
    predictions: int


@dataclass(frozen=True)
class Scope:
    """The experiment to analyze: its seed (None: no seeds in the log) and start."""

    seed: str | None
    start: datetime
    strategy: str | None = None


def logged_experiments(
    con: duckdb.DuckDBPyConnection, deployment: str, as_of: datetime
) -> list[LoggedExperiment]:
    """The seeded experiments of ``deployment`` up to ``as_of``, the latest first (by their
    last prediction; ties by seed).

    Example
    -------
    >>> from datetime import UTC
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT * FROM (VALUES "
    ...   "(TIMESTAMPTZ '2026-01-01', 'credit', 'single', 'main', NULL), "
    ...   "(TIMESTAMPTZ '2026-01-05', 'credit', 'ab', 'a', 's1'), "
    ...   "(TIMESTAMPTZ '2026-01-06', 'credit', 'ab', 'b', 's1')) "
    ...   "t(time, deployment, strategy, arm, seed)")
    >>> [(e.seed, e.strategy, e.arms) for e in logged_experiments(
    ...     con, "credit", datetime(2026, 2, 1, tzinfo=UTC))]
    [('s1', 'ab', ('a', 'b'))]
    """
    return experiments_by_deployment(con, [deployment], as_of)[deployment]


def experiments_by_deployment(
    con: duckdb.DuckDBPyConnection, deployments: Iterable[str], as_of: datetime
) -> dict[str, list[LoggedExperiment]]:
    """:func:`logged_experiments` of each of ``deployments``, from one scan of the log (a
    deployment with none maps to an empty list).

    Example
    -------
    >>> from datetime import UTC
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT * FROM (VALUES "
    ...   "(TIMESTAMPTZ '2026-01-05', 'credit', 'ab', 'a', 's1'), "
    ...   "(TIMESTAMPTZ '2026-01-06', 'fraud', 'canary', 'canary', 's2')) "
    ...   "t(time, deployment, strategy, arm, seed)")
    >>> found = experiments_by_deployment(con, ["credit", "fraud", "idle"],
    ...                                   datetime(2026, 2, 1, tzinfo=UTC))
    >>> {name: [e.seed for e in found[name]] for name in found}
    {'credit': ['s1'], 'fraud': ['s2'], 'idle': []}
    """
    found: dict[str, list[LoggedExperiment]] = {name: [] for name in deployments}
    columns = log_columns(con) if found else []
    if "seed" not in columns:
        return found
    shadow = "AND NOT coalesce(shadow, FALSE)" if "shadow" in columns else ""
    strategy = "strategy" if "strategy" in columns else "NULL"
    sql = f"""
SELECT deployment, seed, arg_max({strategy}, time), list(DISTINCT arm ORDER BY arm), min(time),
 max(time), count(*)
FROM predictions
WHERE deployment IN ({", ".join(f"$d{i}" for i in range(len(found)))}) AND time <= $as_of
 AND seed IS NOT NULL {shadow}
GROUP BY deployment, seed ORDER BY deployment, max(time) DESC, seed
"""  # an IN list of values: the log's readers can skip row groups of other deployments
    params: dict[str, Any] = {f"d{i}": name for i, name in enumerate(found)}
    params["as_of"] = as_of
    try:
        rows = con.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the prediction log: {exc}") from None
    for name, s, k, arms, t0, t1, n in rows:
        found[name].append(
            LoggedExperiment(str(s), str(k), tuple(str(a) for a in arms), t0, t1, int(n))
        )
    return found


def resolve_scope(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    as_of: datetime,
    *,
    seed: str | None = None,
    start: datetime | None = None,
) -> Scope:
    """The experiment named by ``seed``, else the latest seeded one, else the strategy switch.

    Example
    -------
    >>> from datetime import UTC
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT * FROM (VALUES "
    ...   "(TIMESTAMPTZ '2026-01-05', 'credit', 'ab', 'a', 's1')) "
    ...   "t(time, deployment, strategy, arm, seed)")
    >>> s = resolve_scope(con, "credit", datetime(2026, 2, 1, tzinfo=UTC))
    >>> s.seed, s.strategy, s.start.date().isoformat()
    ('s1', 'ab', '2026-01-05')
    """
    found = logged_experiments(con, deployment, as_of)
    if seed is not None:
        match = [e for e in found if e.seed == seed]
        if not match:
            known = ", ".join(f"{e.seed} ({e.strategy})" for e in found) or "none"
            raise ConfigError(
                f"No experiment with seed {seed!r} in deployment {deployment!r}'s log; "
                f"logged experiments: {known}."
            )
        return Scope(seed, start or match[0].start, match[0].strategy)
    if found:
        return Scope(found[0].seed, start or found[0].start, found[0].strategy)
    return Scope(None, start or default_start(con, deployment, as_of))


def default_start(con: duckdb.DuckDBPyConnection, deployment: str, as_of: datetime) -> datetime:
    """When ``deployment`` switched to the strategy of its latest prediction (before ``as_of``).

    Predictions before it are the CUPED pre-period. Without predictions, ``as_of`` itself.

    Example
    -------
    >>> from datetime import UTC
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE VIEW predictions AS SELECT * FROM (VALUES "
    ...   "(TIMESTAMPTZ '2026-01-01 00:00:00+00', 'credit', 'single'), "
    ...   "(TIMESTAMPTZ '2026-01-05 00:00:00+00', 'credit', 'ab'), "
    ...   "(TIMESTAMPTZ '2026-01-06 00:00:00+00', 'credit', 'ab')) t(time, deployment, strategy)")
    >>> default_start(con, "credit", datetime(2026, 2, 1, tzinfo=UTC)).date().isoformat()
    '2026-01-05'
    """
    columns = log_columns(con)
    shadow = "AND NOT coalesce(shadow, FALSE)" if "shadow" in columns else ""
    scope = f"deployment = $deployment AND time <= $as_of {shadow}"
    params = {"deployment": deployment, "as_of": as_of}
    if "strategy" not in columns:
        sql = f"SELECT min(time) FROM predictions WHERE {scope}"
    else:
        sql = f"""
WITH d AS (SELECT time, strategy FROM predictions WHERE {scope}),
latest AS (SELECT arg_max(strategy, time) AS s FROM d),
before AS (SELECT max(time) AS t FROM d WHERE strategy IS DISTINCT FROM (SELECT s FROM latest))
SELECT min(time) FROM d WHERE time > coalesce((SELECT t FROM before), '-infinity'::TIMESTAMPTZ)
"""
    try:
        row = con.execute(sql, params).fetchone()
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the prediction log: {exc}") from None
    found = row[0] if row else None
    return found if isinstance(found, datetime) else as_of
