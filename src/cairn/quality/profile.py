"""Reference profiles: what PSI and label-rate checks compare against (DESIGN §3.5).

A profile is a JSON artifact, so monitoring and quality never need the raw training data
again::

    {"format": "cairn.reference_profile", "version": 1, "rows": 4454, "bins": 10,
     "epsilon": 0.0001, "created_at": "…",
     "columns": {
       "amount": {"type": "numeric", "dtype": "DOUBLE", "edges": [...],
                  "proportions": [...], "missing": 0.0, "count": 4454,
                  "mean": …, "std": …, "min": …, "max": …, "sample": [...]},
       "home":   {"type": "categorical", "dtype": "VARCHAR", "categories": [...],
                  "proportions": [...], "unseen": 0.0, "missing": 0.0015, "count": …,
                  "sample": [...]}},
     "label": {"column": "defaulted", "positive_value": 1, "rate": 0.2815, "count": 4454}}

Edges are the reference's quantiles (linear interpolation, as
:func:`cairn.quality.psi.quantile_edges`, up to rounding in the last place), proportions are
over all rows (missing included), and ``sample`` is a bounded, deterministic sample of present
values (for KS and other tests). Profiles are computed by DuckDB, out of core on Parquet.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [float(i) for i in range(100)], "c": ["a", "b"] * 50})
>>> p = profile_reference(frame, bins=4)
>>> p["columns"]["x"]["edges"], p["columns"]["c"]["proportions"]
([24.75, 49.5, 74.25], [0.5, 0.5])
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from cairn.core.errors import DataError
from cairn.core.timeutil import utcnow
from cairn.quality.context import CompileContext
from cairn.quality.data import ROW, BoundTable, bind
from cairn.quality.psi import DEFAULT_BINS, EPSILON, as_category
from cairn.quality.runner import connect

FORMAT = "cairn.reference_profile"


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
        Quantile bins per numeric column (edges that repeat collapse).
    label:
        A label column whose share of ``positive_value`` is stored for label-rate checks.
    max_categories:
        Most frequent categories kept per text column; rarer ones count as unseen.
    sample_size, seed:
        Size and seed of the deterministic sample of present values kept per column.
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
        profiled = {c: _profile_column(con, ctx, c, bins, max_categories, rows) for c in chosen}
        _add_samples(con, ctx, table, profiled, sample_size, seed)
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": 1,
            "created_at": utcnow().isoformat(),
            "data": table.label,
            "rows": rows,
            "bins": bins,
            "epsilon": EPSILON,
            "columns": profiled,
            "label": _label(con, ctx, label, positive_value) if label else None,
        }
    finally:
        con.close()
    return out


def save_profile(profile: dict[str, Any], path: str | Path) -> Path:
    """Write a profile as JSON (creating the folder)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(profile, indent=1) + "\n", encoding="utf-8")
    return out


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read a profile written by :func:`save_profile`."""
    try:
        profile: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read the reference profile {path}: {exc}") from None
    if profile.get("format") != FORMAT:
        raise DataError(f"{path} is not a Cairn reference profile (format {FORMAT!r}).")
    return profile


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


def _profile_column(
    con: duckdb.DuckDBPyConnection,
    ctx: CompileContext,
    column: str,
    bins: int,
    max_categories: int,
    rows: int,
) -> dict[str, Any]:
    rel = ctx.relation
    if ctx.kind(column) == "numeric":
        v = ctx.number(column)
        qs = [i / bins for i in range(1, bins)]
        count, mean, std, lo, hi, quantiles = _one(
            con,
            f"SELECT count({v}), avg({v}), stddev_samp({v}), min({v}), max({v}), "
            f"quantile_cont({v}, $q) FROM {rel}",
            {"q": qs},
        )
        edges = sorted({float(e) for e in quantiles or []})
        below = []
        if edges:
            tests = ", ".join(f"count_if({v} < $e{j})" for j in range(len(edges)))
            below = list(
                _one(con, f"SELECT {tests} FROM {rel}", {f"e{j}": e for j, e in enumerate(edges)})
            )
        cumulative = [0, *below, count]
        counts = [b - a for a, b in itertools.pairwise(cumulative)]
        return {
            "type": "numeric",
            "dtype": ctx.columns[column],
            "edges": edges,
            "proportions": [c / rows for c in counts],
            "missing": (rows - count) / rows,
            "count": int(count),
            "mean": _float(mean),
            "std": _float(std),
            "min": _float(lo),
            "max": _float(hi),
        }
    text, present = ctx.text(column), ctx.present(column)
    top = con.execute(
        f"SELECT {text} AS v, count(*) AS n FROM {rel} WHERE {present} "
        f"GROUP BY 1 ORDER BY n DESC, v LIMIT {int(max_categories)}"
    ).fetchall()
    count = int(_one(con, f"SELECT count_if({present}) FROM {rel}")[0])
    kept = sum(int(n) for _, n in top)
    return {
        "type": "categorical",
        "dtype": ctx.columns[column],
        "categories": [str(v) for v, _ in top],
        "proportions": [int(n) / rows for _, n in top],
        "unseen": (count - kept) / rows,
        "missing": (rows - count) / rows,
        "count": count,
    }


def _add_samples(
    con: duckdb.DuckDBPyConnection,
    ctx: CompileContext,
    table: BoundTable,
    profiled: dict[str, dict[str, Any]],
    size: int,
    seed: int,
) -> None:
    """Up to ``size`` present values per column, chosen by a seeded hash of the row number."""
    for column, prof in profiled.items():
        value = ctx.number(column) if prof["type"] == "numeric" else ctx.col(column)
        values = con.execute(
            f"SELECT {value} FROM {table.rows()} WHERE {ctx.present(column)} "
            f"ORDER BY hash({ROW} + $seed), {ROW} LIMIT {int(size)}",
            {"seed": seed},
        ).fetchall()
        if prof["type"] == "numeric":
            prof["sample"] = [float(v) for (v,) in values if v is not None]
        else:
            prof["sample"] = [as_category(v) for (v,) in values]


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


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
