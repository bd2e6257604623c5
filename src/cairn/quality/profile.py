"""Reference profiles for quality suites: what PSI and label-rate checks compare against.

:func:`profile_reference` reads the columns to profile out of any data a suite accepts
(DataFrame, Arrow, Parquet/CSV/Delta path; one column at a time, through DuckDB) and profiles
them with :meth:`cairn.profiles.ReferenceProfile.build`: the one builder, binning and stored
format that training and monitoring use too (DESIGN §3.5), so a suite's PSI and monitoring's
PSI agree on the same data. The label rate is counted in SQL, as the label-rate check counts
it. A profile is a JSON artifact (see :mod:`cairn.profiles.profile` for the format); quality
profiles of version 1 still read.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [float(i) for i in range(100)], "c": ["a", "b"] * 50,
...                       "term": [12, 36] * 50})
>>> p = profile_reference(frame, bins=4)
>>> p["columns"]["x"]["edges"], p["columns"]["c"]["proportions"]
([24.75, 49.5, 74.25], [0.5, 0.5])
>>> p["columns"]["term"]["binning"], p["columns"]["term"]["points"]
('value', [12.0, 36.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import duckdb

from cairn.core.errors import DataError
from cairn.core.timeutil import utcnow
from cairn.profiles import DEFAULT_BINS, ColumnReference, ReferenceProfile
from cairn.profiles.profile import load_profile, save_profile
from cairn.quality.context import CompileContext, quote
from cairn.quality.data import bind
from cairn.quality.runner import connect

__all__ = ["load_profile", "profile_reference", "save_profile"]


def profile_reference(
    data: Any,
    columns: Sequence[str] | None = None,
    *,
    bins: int = DEFAULT_BINS,
    label: str | None = None,
    positive_value: Any = 1,
    max_categories: int = 50,
    sample_size: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Profile ``columns`` of ``data`` (default: every numeric, boolean and text column but the
    label) for PSI, and the label rate of ``label``.

    Parameters
    ----------
    data:
        Anything :func:`cairn.quality.validate` accepts (DataFrame, Arrow, a Parquet/CSV/Delta
        path).
    bins:
        Quantile bins per numeric column (see :mod:`cairn.profiles.bins` for value bins and
        point masses).
    label:
        A label column whose share of ``positive_value`` is stored for label-rate checks.
    max_categories:
        Most frequent categories kept per text column; rarer ones count as ``other``.
    sample_size, seed:
        Size and seed of the sample of present values kept per column.
    """
    if bins < 2:
        raise DataError(f"bins must be at least 2; got {bins}.")
    con = connect()
    try:
        table = bind(con, data)
        ctx = CompileContext.standalone(table.columns, table.relation)
        chosen = _columns(ctx, columns, label)
        rows = int(_one(con, f"SELECT count(*) FROM {table.relation}")[0])
        if rows == 0:
            raise DataError(f"Cannot profile {table.label}: it has no rows.")
        features: dict[str, ColumnReference] = {}
        for i, column in enumerate(chosen):
            kind = ctx.kind(column)
            value = (
                f"CAST({ctx.number(column)} AS DOUBLE)" if kind == "numeric" else ctx.col(column)
            )
            arrow = con.sql(f"SELECT {value} AS {quote(column)} FROM {table.relation}")
            one = ReferenceProfile.build(
                arrow.to_arrow_table(), categorical={column} if kind == "string" else set(),
                bins=bins, top_k=max_categories, sample=sample_size, seed=seed + i,
            )  # fmt: skip
            features[column] = replace(one.features[column], dtype=ctx.columns[column])
        meta = {"created_at": utcnow().isoformat(), "data": table.label}
        profile = ReferenceProfile(features, rows=rows, bins=bins, meta=meta)
        if label is not None:
            profile = replace(profile, label=_label(con, ctx, label, positive_value))
    finally:
        con.close()
    return profile.to_dict()


def _columns(ctx: CompileContext, columns: Sequence[str] | None, label: str | None) -> list[str]:
    if label is not None and label not in ctx.columns:
        raise DataError(f"label {label!r} is not a column; columns are {', '.join(ctx.columns)}.")
    if columns is None:
        kinds = ("numeric", "string", "bool")
        return [c for c in ctx.columns if ctx.kind(c) in kinds and c != label]
    for c in columns:
        if c not in ctx.columns:
            raise DataError(
                f"column {c!r} is not in the data; columns are {', '.join(ctx.columns)}."
            )
        if ctx.kind(c) not in ("numeric", "string", "bool"):
            raise DataError(
                f"column {c!r} is {ctx.columns[c]}; profiles cover numeric, "
                f"boolean and text columns."
            )
    return list(columns)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...]:
    (row,) = con.execute(sql, params).fetchall()
    return tuple(row)


def _label(
    con: duckdb.DuckDBPyConnection, ctx: CompileContext, label: str, positive: Any
) -> dict[str, Any]:
    from cairn.quality.expectations.values import in_set_terms

    value, (param,) = in_set_terms(ctx, label, [positive])
    present = ctx.present(label)
    params = {k.lstrip("$"): v for k, v in ctx.params.items()}
    n, hits = _one(
        con,
        f"SELECT count_if({present}), count_if({present} AND {value} = {param}) "
        f"FROM {ctx.relation}",
        params,
    )
    return {
        "column": label,
        "positive_value": positive,
        "rate": (int(hits) / int(n)) if n else None,
        "count": int(n),
    }
