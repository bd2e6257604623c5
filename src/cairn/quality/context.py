"""What an expectation may ask while it compiles: column types, SQL fragments, parameters.

A :class:`CompileContext` belongs to one run over one table. It hands out SQL for columns
(quoted identifiers; NaN counted as missing in float columns), binds every value as a named
parameter (``$p0``, ``$p1`` … values never become SQL text), knows the value ranges of integer
columns when the compiler probed them, and resolves other tables and reference profiles a
check names.
Errors raised through :meth:`CompileContext.fail` name the check being compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cairn.quality.dialect import DUCKDB, QualityDialect
from cairn.quality.errors import SuiteError

ColumnKind = Literal["numeric", "string", "bool", "temporal", "null", "other"]

_INTEGERS = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")
) | {"UBIGINT", "UHUGEINT"}
_FLOATS = ("FLOAT", "DOUBLE", "REAL")


def is_integer(sql_type: str) -> bool:
    """Whether a DuckDB type is an integer type."""
    return sql_type.upper() in _INTEGERS


@dataclass(frozen=True)
class IntRange:
    """What the range probe found in an integer column: bounds, and how many values are null."""

    low: int | None
    high: int | None
    nulls: int

    @property
    def size(self) -> int:
        """How many integers lie in ``[low, high]`` (0 when the column is all null)."""
        return 0 if self.low is None or self.high is None else self.high - self.low + 1


def column_kind(sql_type: str) -> ColumnKind:
    """The kind of a DuckDB column type.

    Example
    -------
    >>> column_kind("DECIMAL(18,2)"), column_kind("TIMESTAMP WITH TIME ZONE"), column_kind('"NULL"')
    ('numeric', 'temporal', 'null')
    """
    t = sql_type.upper().strip('"')
    if t in _INTEGERS or t in _FLOATS or t.startswith("DECIMAL"):
        return "numeric"
    if t == "VARCHAR" or t.startswith("ENUM"):
        return "string"
    if t == "BOOLEAN":
        return "bool"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return "temporal"
    if t == "NULL":
        return "null"
    return "other"


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class CompileContext:
    """Column types and SQL helpers for the expectations of one run over one table.

    Parameters
    ----------
    columns:
        Column name -> DuckDB type of the table being validated.
    relation:
        SQL of the table (usable after ``FROM``), for checks that need a subquery over it.
    resolve_table:
        Returns ``(relation SQL, columns)`` of another table named by a check (a reference name
        of the suite or a path), or raises naming what it tried.
    load_profile:
        Returns a stored reference profile (see :mod:`cairn.quality.profile`) from a path.
    regex_error:
        Returns why DuckDB rejects a regular expression, or None when it accepts it.
    now:
        The time checks of freshness measure against.
    dialect:
        The engine's SQL spellings (DuckDB by default, or Spark SQL).
    """

    def __init__(
        self,
        columns: Mapping[str, str],
        relation: str,
        *,
        resolve_table: Callable[[str], tuple[str, dict[str, str]]],
        load_profile: Callable[[str], dict[str, Any]],
        regex_error: Callable[[str], str | None],
        now: datetime,
        dialect: QualityDialect = DUCKDB,
    ) -> None:
        self.columns = dict(columns)
        self.dialect = dialect
        self.relation = relation
        self.now = now
        self.params: dict[str, Any] = {}
        self.ranges: dict[str, IntRange] = {}
        self.owner = "suite"
        self._resolve_table = resolve_table
        self._load_profile = load_profile
        self._regex_error = regex_error

    @classmethod
    def standalone(cls, columns: Mapping[str, str], relation: str) -> CompileContext:
        """A context for one table alone (profiling, drafting): no other tables or profiles."""

        def no_table(ref: str) -> tuple[str, dict[str, str]]:
            raise SuiteError(f"no other tables here; got a reference to {ref!r}")

        def no_profile(ref: str) -> dict[str, Any]:
            raise SuiteError(f"no reference profiles here; got {ref!r}")

        return cls(
            columns,
            relation,
            resolve_table=no_table,
            load_profile=no_profile,
            regex_error=lambda _: None,
            now=datetime.now(UTC),
        )

    # -- errors -------------------------------------------------------------------------
    def fail(self, message: str) -> SuiteError:
        """A SuiteError about the check being compiled (raise it)."""
        return SuiteError(f"{self.owner}: {message}")

    # -- columns -------------------------------------------------------------------------
    def kind(self, column: str) -> ColumnKind:
        """The kind of a column of the table."""
        return column_kind(self.columns[column])

    def is_float(self, column: str) -> bool:
        """Whether a column can hold NaN (which counts as missing, as in pandas)."""
        return self.columns[column].upper() in _FLOATS

    def require(self, column: str, kinds: tuple[ColumnKind, ...], expected: str) -> ColumnKind:
        """The column's kind, or a SuiteError when it is not one of ``kinds``."""
        kind = self.kind(column)
        if kind not in kinds:
            raise self.fail(f"column {column!r} is {self.columns[column]}; expected {expected}.")
        return kind

    def col(self, column: str) -> str:
        """The quoted column."""
        return quote(column)

    def missing(self, column: str) -> str:
        """SQL true where the column is null (or NaN)."""
        q = quote(column)
        return f"({q} IS NULL OR isnan({q}))" if self.is_float(column) else f"({q} IS NULL)"

    def present(self, column: str) -> str:
        """SQL true where the column holds a value (not null, not NaN)."""
        q = quote(column)
        if self.is_float(column):
            return f"({q} IS NOT NULL AND NOT isnan({q}))"
        return f"({q} IS NOT NULL)"

    def number(self, column: str) -> str:
        """The column as a number: NaN becomes null; text is parsed (null where it is not a
        number); booleans count 1/0."""
        q, kind = quote(column), self.kind(column)
        if self.is_float(column):
            return f"(CASE WHEN isnan({q}) THEN NULL ELSE {q} END)"
        if kind == "numeric":
            return q
        if kind == "bool":
            return self.cast(q, "INTEGER")
        return f"TRY_CAST({q} AS DOUBLE)"

    def text(self, column: str) -> str:
        """The column as text."""
        q = quote(column)
        return q if self.kind(column) == "string" else self.cast(q, "VARCHAR")

    def cast(self, sql: str, sql_type: str) -> str:
        """``sql`` cast to a (DuckDB-named) type, spelled for the engine."""
        return f"CAST({sql} AS {self.dialect.type_name(sql_type)})"

    # -- values and ranges ---------------------------------------------------------------
    def param(self, value: Any, cast: str | None = None) -> str:
        """A named parameter bound to ``value`` (optionally cast to a SQL type)."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        marker = self.dialect.placeholder(name)
        return self.cast(marker, cast) if cast else marker

    def int_range(self, column: str) -> IntRange | None:
        """The probed range of an integer column (see :meth:`Expectation.range_columns`)."""
        return self.ranges.get(column)

    def check_regex(self, pattern: str) -> None:
        """Raise a SuiteError when DuckDB (RE2) cannot compile ``pattern``."""
        error = self._regex_error(pattern)
        if error is not None:
            raise self.fail(f"argument 'regex' {pattern!r} is not a valid RE2 pattern: {error}")

    # -- other tables and profiles -------------------------------------------------------
    def table(self, ref: str) -> tuple[str, dict[str, str]]:
        """Relation SQL and columns of another table named by the check."""
        try:
            return self._resolve_table(ref)
        except SuiteError as exc:
            raise self.fail(str(exc)) from None

    def profile(self, ref: str) -> dict[str, Any]:
        """A stored reference profile named by the check."""
        try:
            return self._load_profile(ref)
        except SuiteError as exc:
            raise self.fail(str(exc)) from None
