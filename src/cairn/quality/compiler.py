"""The SQL compiler: a suite becomes one aggregate query per table, and at most one more.

1. **The aggregate query.** Every check contributes aggregate expressions (``count_if``,
   ``avg``, ``quantile_cont``, ``count(DISTINCT …)`` …); identical expressions are
   computed once, and all of them run in a single ``SELECT … FROM <data>``: one scan, in
   parallel, streaming over Parquet. Checks that need another table (referential integrity,
   leakage) embed it as an ``IN (SELECT …)`` subquery of that same statement.
2. **The failing-row query**, only when a row-level check failed: one more scan, numbering
   rows, that keeps the first N failing rows of every failing check with ``min_by(…, N)``
   (a bounded heap per check, never the failing rows themselves) and counts exactly the rows
   of uniqueness checks whose values repeat (a semi-join on the repeated values, found by
   ``GROUP BY … HAVING count(*) > 1``).

When the suite checks uniqueness of integer columns, their bounds let those checks count
distinct values with a bitmap instead of a hash table (see
:func:`cairn.quality.expectations.table.distinct_count`). The bounds come from Parquet footer
statistics or from the columns in memory; only when neither has them (a SQL relation, a Delta
or CSV input) does a **range probe** query (``min``/``max`` of those columns) run first.

Columns are checked before anything runs: a check naming a column the data does not have is a
:class:`~cairn.quality.errors.SuiteError`, unless the suite declares that column in a schema
check (``expect_column_to_exist``, ``expect_table_columns_to_match_set``); then the schema
check fails and the checks on the missing column fail with it, without running.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from cairn.quality.check import ResolvedCheck
from cairn.quality.context import CompileContext, IntRange, is_integer, quote
from cairn.quality.data import ROW
from cairn.quality.errors import SuiteError
from cairn.quality.expectations.base import Plan
from cairn.quality.spec import Suite

_PARAM = re.compile(r"[$:](p\d+)\b")


@dataclass
class CompiledCheck:
    """A check with its plan and where its aggregates sit in the query."""

    resolved: ResolvedCheck
    plan: Plan | None
    aliases: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


@dataclass
class CompiledSuite:
    """The aggregate query of a suite over one table."""

    sql: str
    params: dict[str, Any]
    checks: list[CompiledCheck]
    context: CompileContext


def compile_suite(suite: Suite, ctx: CompileContext) -> CompiledSuite:
    """Plan every check of ``suite`` on the context's table and fold them into one query."""
    resolved = suite.resolved()
    declared = _declared_columns(resolved)
    expressions: dict[str, str] = {}  # SQL -> alias
    checks = []
    for rc in resolved:
        ctx.owner = rc.owner
        absent = [c for c in rc.expectation.columns(rc.args) if c not in ctx.columns]
        if absent and not rc.expectation.schema_check:
            undeclared = [c for c in absent if c not in declared]
            if undeclared:
                raise SuiteError(_unknown_column(rc.owner, undeclared[0], list(ctx.columns)))
            checks.append(CompiledCheck(rc, None, missing=absent))
            continue
        plan = rc.expectation.plan(rc.args, ctx)
        aliases = {}
        for key, sql in plan.aggregates.items():
            aliases[key] = expressions.setdefault(sql, f"a{len(expressions)}")
        checks.append(CompiledCheck(rc, plan, aliases))
    ctx.owner = "suite"
    selected = ", ".join(["count(*) AS __rows", *(f"{s} AS {a}" for s, a in expressions.items())])
    sql = f"SELECT {selected} FROM {ctx.relation} AS __t"
    return CompiledSuite(sql, used_params(sql, ctx.params), checks, ctx)


def range_probe(suite: Suite, ctx: CompileContext) -> tuple[str, list[str]] | None:
    """The query of the bounds and null counts of the integer columns checks asked for
    (``Expectation.range_columns``), or None when no check asks."""
    wanted: dict[str, None] = {}
    for rc in suite.resolved():
        for c in rc.expectation.range_columns(rc.args):
            if c in ctx.columns and is_integer(ctx.columns[c]):
                wanted[c] = None
    if not wanted:
        return None
    parts = [f"min({quote(c)}), max({quote(c)}), count(*) - count({quote(c)})" for c in wanted]
    return f"SELECT {', '.join(parts)} FROM {ctx.relation} AS __t", list(wanted)


def read_ranges(columns: list[str], row: tuple[Any, ...]) -> dict[str, IntRange]:
    """The probe's row as ranges per column."""
    return {
        c: IntRange(
            None if row[3 * i] is None else int(row[3 * i]),
            None if row[3 * i + 1] is None else int(row[3 * i + 1]),
            int(row[3 * i + 2]),
        )
        for i, c in enumerate(columns)
    }


def failing_rows_query(
    compiled: CompiledSuite, failing: list[CompiledCheck], rows_relation: str, limit: int
) -> tuple[str, dict[str, Any]]:
    """One query over the numbered rows: per failing check ``i``, ``__c{i}`` the number of
    failing rows and ``__s{i}`` the first ``limit`` of them (by position) with their columns.
    Checks with the same predicate share one flag (and so one semi-join). Spark has no
    bounded ``min_by``: there each check's rows are the first ``limit`` by position
    (``ORDER BY … LIMIT``, a bounded sort), collected in one statement all the same."""
    ctx = compiled.context
    flags: dict[str, str] = {}  # predicate -> flag column
    shown: dict[str, None] = {ROW: None}
    outputs, samples = [], []
    for i, cc in enumerate(failing):
        assert cc.plan is not None and cc.plan.rows is not None
        rows = cc.plan.rows
        flag = flags.setdefault(rows.predicate, f"__f{len(flags)}")
        shown.update(dict.fromkeys(rows.columns))
        outputs.append(f"count_if({flag}) AS __c{i}")
        if limit > 0:
            packed = ctx.dialect.pack({c: quote(c) for c in dict.fromkeys([ROW, *rows.columns])})
            if ctx.dialect.min_by_n:  # DuckDB: a bounded heap per check
                outputs.append(
                    f"min_by({packed}, {ROW}, {int(limit)}) FILTER (WHERE {flag}) AS __s{i}"
                )
            else:
                first = f"SELECT {packed} AS __r FROM __m WHERE {flag} ORDER BY {ROW} LIMIT {limit}"
                samples.append(f"(SELECT array_sort(collect_list(__r)) AS __s{i} FROM ({first}))")
    flagged = ", ".join(f"coalesce(({p}), FALSE) AS {f}" for p, f in flags.items())
    columns = ", ".join(quote(c) for c in shown)
    numbered = f"SELECT {columns}, {flagged} FROM {rows_relation} AS __t"
    if ctx.dialect.min_by_n:
        sql = f"SELECT {', '.join(outputs)} FROM ({numbered}) AS __m"
    else:
        joined = "".join(f" CROSS JOIN {s}" for s in samples)
        counts = f"SELECT {', '.join(outputs)} FROM __m"
        sql = f"WITH __m AS ({numbered}) SELECT * FROM ({counts}){joined}"
    return sql, used_params(sql, ctx.params)


def used_params(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a statement refers to (DuckDB rejects unused ones)."""
    return {name: params[name] for name in dict.fromkeys(_PARAM.findall(sql))}


def _declared_columns(resolved: list[ResolvedCheck]) -> set[str]:
    out: set[str] = set()
    for rc in resolved:
        if rc.expectation.name == "expect_column_to_exist":
            out.add(rc.args["column"])
        elif rc.expectation.name == "expect_table_columns_to_match_set":
            out.update(rc.args["column_set"])
    return out


def _unknown_column(owner: str, column: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = ", ".join(columns[:30]) + (", …" if len(columns) > 30 else "")
    return f"{owner}: unknown column {column!r}{hint}; the data has columns {shown or 'none'}."
