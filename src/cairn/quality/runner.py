"""Running a suite: bind the data, compile, run one aggregate query (plus one for failing rows
when something failed), judge each check, and keep the result.

Example
-------
>>> import pandas as pd
>>> from cairn.quality import Check, Suite
>>> suite = Suite("people", [
...     Check("expect_column_values_to_not_be_null", {"column": "age"}),
...     Check("expect_column_values_to_be_between", {"column": "age", "min_value": 0},
...           severity="medium"),
... ])
>>> result = validate(suite, pd.DataFrame({"age": [31, -4, 57]}))
>>> result.verdict, result.action.value, result.queries
('failed', 'warn', 2)
>>> result.checks[1].unexpected_count, result.checks[1].failing_rows
(1, [{'row': 1, 'values': {'age': -4}}])
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from cairn.core.errors import SourceError
from cairn.core.timeutil import utcnow
from cairn.quality.compiler import (
    CompiledCheck,
    CompiledSuite,
    compile_suite,
    failing_rows_query,
    range_probe,
    read_ranges,
)
from cairn.quality.context import CompileContext
from cairn.quality.data import ROW, BoundTable, bind
from cairn.quality.errors import SuiteError
from cairn.quality.executor import DuckDBExecutor, Executor
from cairn.quality.expectations.base import Outcome
from cairn.quality.results import CheckResult, ValidationResult
from cairn.quality.spec import Suite, as_suite

if TYPE_CHECKING:
    from cairn.quality.store import QualityStore


_database: duckdb.DuckDBPyConnection | None = None
_lock = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB connection in UTC to this process's in-memory database (opening a
    database takes tens of milliseconds, a connection to it one; what a connection registers
    is its own and goes away when it is closed)."""
    global _database
    with _lock:
        if _database is None:
            _database = duckdb.connect(":memory:")
        con = _database.cursor()
    con.execute("SET TimeZone = 'UTC'")
    return con


def validate(
    suite: Suite | str | Path,
    data: Any,
    *,
    label: str | None = None,
    references: Mapping[str, Any] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    now: datetime | None = None,
    sample_rows: int | None = None,
    store: QualityStore | None = None,
    executor: Executor | None = None,
) -> ValidationResult:
    """Run ``suite`` over ``data`` and return the result (it never raises on failed checks;
    see :func:`cairn.quality.gate.enforce` for that).

    Parameters
    ----------
    suite:
        A :class:`~cairn.quality.spec.Suite` or the path of a suite file.
    data:
        A pandas DataFrame, an Arrow table (or anything with an Arrow stream), or a path to
        Parquet (file or folder), CSV or Delta data.
    label:
        How the data is named in results (default: its path, or its type).
    references:
        Other tables (DataFrames, Arrow tables, paths) and reference profiles (dicts) named by
        checks, in addition to the suite's ``references``.
    connection:
        A DuckDB connection to run in (default: a new in-memory one).
    now:
        The time freshness is measured against (default: now).
    sample_rows:
        Failing rows kept per failing check (default: the suite's ``sample_rows``).
    store:
        A :class:`~cairn.quality.store.QualityStore` to record the result in.
    executor:
        Where the queries run (default: DuckDB, in ``connection``); with a Spark executor
        ``data`` is a :class:`~cairn.quality.data.BoundTable` of Spark SQL
        (:func:`cairn.quality.spark.spark_table`).
    """
    suite = as_suite(suite)
    limit = suite.sample_rows if sample_rows is None else sample_rows
    started, clock = utcnow(), time.perf_counter()
    con = connection or connect()
    try:
        table = bind(con, data, label=label)
        run = executor or DuckDBExecutor(con)
        ctx = CompileContext(
            table.columns,
            table.relation,
            resolve_table=_TableResolver(run, suite, references or {}),
            load_profile=_ProfileLoader(suite, references or {}),
            regex_error=lambda pattern: _regex_error(con, pattern),
            now=now or started,
            dialect=run.dialect,
        )
        queries = _probe_ranges(run, suite, ctx, table)
        compiled = compile_suite(suite, ctx)
        values = run.run(compiled.sql, compiled.params, table.label)
        queries += 1
        outcomes = {id(cc): _evaluate(cc, values) for cc in compiled.checks}
        failing = [
            cc
            for cc in compiled.checks
            if cc.plan is not None and cc.plan.rows is not None and not outcomes[id(cc)].success
        ]
        samples: dict[int, list[dict[str, Any]]] = {}
        if failing:
            _failing_rows(run, compiled, failing, table, limit, values, outcomes, samples)
            queries += 1
    finally:
        if connection is None:
            con.close()
    checks = [_result(cc, outcomes[id(cc)], samples.get(id(cc), [])) for cc in compiled.checks]
    result = ValidationResult(
        suite=suite.name,
        suite_digest=suite.digest,
        data=table.label,
        rows=int(values["__rows"]),
        checks=checks,
        started_at=started,
        seconds=time.perf_counter() - clock,
        queries=queries,
    )
    return store.record(result) if store is not None else result


def _probe_ranges(run: Executor, suite: Suite, ctx: CompileContext, table: BoundTable) -> int:
    """Fill ``ctx.ranges`` for the integer columns checks asked about; the queries it ran."""
    probe = range_probe(suite, ctx)
    if probe is None:
        return 0
    sql, columns = probe
    known = table.ranges(columns)
    if known is not None:
        ctx.ranges = known
        return 0
    ctx.ranges = read_ranges(columns, tuple(run.run(sql, {}, table.label).values()))
    return 1


def _failing_rows(
    run: Executor,
    compiled: CompiledSuite,
    failing: list[CompiledCheck],
    table: BoundTable,
    limit: int,
    values: Mapping[str, Any],
    outcomes: dict[int, Outcome],
    samples: dict[int, list[dict[str, Any]]],
) -> None:
    """Run the failing-row query: keep each failing check's rows, and settle the checks whose
    count only this query knows (uniqueness)."""
    sql, params = failing_rows_query(compiled, failing, table.rows(), limit)
    found = run.run(sql, params, table.label)
    for i, cc in enumerate(failing):
        samples[id(cc)] = [_row(r) for r in found.get(f"__s{i}") or []]
        assert cc.plan is not None and cc.plan.rows is not None
        if cc.plan.rows.exact_count:
            exact = {**_local(cc, values), "unexpected": found[f"__c{i}"]}
            outcomes[id(cc)] = cc.plan.evaluate(exact)


def _row(packed: Mapping[str, Any]) -> dict[str, Any]:
    """``{"row": position, "values": {column: value}}`` from a packed failing row."""
    values = {k: v for k, v in packed.items() if k != ROW}
    return {"row": int(packed[ROW]), "values": values}


def _local(cc: CompiledCheck, values: Mapping[str, Any]) -> dict[str, Any]:
    local = {key: values[alias] for key, alias in cc.aliases.items()}
    local["__rows"] = values["__rows"]
    return local


def _evaluate(cc: CompiledCheck, values: Mapping[str, Any]) -> Outcome:
    if cc.plan is None:
        missing = ", ".join(repr(c) for c in cc.missing)
        return Outcome(False, None, message=f"column {missing} missing from the data")
    return cc.plan.evaluate(_local(cc, values))


def _result(cc: CompiledCheck, outcome: Outcome, rows: list[dict[str, Any]]) -> CheckResult:
    rc = cc.resolved
    share = None
    if outcome.unexpected_count is not None and outcome.considered is not None:
        share = outcome.unexpected_count / outcome.considered if outcome.considered else 0.0
    return CheckResult(
        index=rc.index,
        expectation=rc.expectation.name,
        kwargs=dict(rc.check.kwargs),
        layer=rc.layer,
        severity=rc.severity,
        dimension=rc.expectation.dimension,
        action=rc.action,
        success=outcome.success,
        observed=outcome.observed,
        unexpected_count=outcome.unexpected_count,
        unexpected_share=share,
        considered=outcome.considered,
        missing_count=outcome.missing_count,
        failing_rows=rows,
        details=dict(outcome.details),
        message=outcome.message,
    )


def _regex_error(con: duckdb.DuckDBPyConnection, pattern: str) -> str | None:
    try:
        con.execute("SELECT regexp_matches('', $p)", {"p": pattern}).fetchall()
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def _resolve_path(suite: Suite, ref: str) -> Path:
    path = Path(suite.references.get(ref, ref)).expanduser()
    if not path.is_absolute() and suite.base_dir is not None:
        path = suite.base_dir / path
    return path


class _TableResolver:
    """Binds the other tables checks name (once each): passed-in data, suite references,
    or paths relative to the suite file."""

    def __init__(self, run: Executor, suite: Suite, given: Mapping[str, Any]) -> None:
        self.run, self.suite, self.given = run, suite, given
        self.bound: dict[str, tuple[str, dict[str, str]]] = {}

    def __call__(self, ref: str) -> tuple[str, dict[str, str]]:
        if ref not in self.bound:
            data = self.given.get(ref)
            if data is None:
                data = _resolve_path(self.suite, ref)
                if not data.exists():
                    known = ", ".join([*self.suite.references, *self.given]) or "none"
                    raise SuiteError(
                        f"table {ref!r} is neither a reference of the suite ({known}) nor an "
                        f"existing path (tried {data})."
                    )
            try:
                self.bound[ref] = self.run.table(data, ref)
            except SourceError as exc:
                raise SuiteError(f"table {ref!r}: {exc}") from None
        return self.bound[ref]


class _ProfileLoader:
    """Reads reference profiles (JSON files, or dicts passed in) once each."""

    def __init__(self, suite: Suite, given: Mapping[str, Any]) -> None:
        self.suite, self.given = suite, given
        self.loaded: dict[str, dict[str, Any]] = {}

    def __call__(self, ref: str) -> dict[str, Any]:
        if ref not in self.loaded:
            given = self.given.get(ref)
            if isinstance(given, Mapping):
                profile = dict(given)
            else:
                path = _resolve_path(self.suite, ref) if given is None else Path(given)
                try:
                    profile = json.loads(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    raise SuiteError(
                        f"no reference profile at {path} (build one with "
                        f"cairn.quality.profile_reference and save_profile)."
                    ) from None
                except (OSError, ValueError) as exc:
                    raise SuiteError(f"cannot read the reference profile {path}: {exc}") from None
            if not isinstance(profile, dict) or not isinstance(profile.get("columns"), dict):
                raise SuiteError(f"{ref!r} is not a reference profile (no 'columns').")
            self.loaded[ref] = profile
        return self.loaded[ref]
