"""What differs between the engines' SQL of a suite: DuckDB (in process) and Spark SQL.

A suite compiles to the same queries on both engines (:mod:`cairn.quality.compiler`); an
expectation asks its :class:`~cairn.quality.context.CompileContext` for the few fragments whose
spelling differs, and the context answers from its :class:`QualityDialect`. Identifiers are
double-quoted on both (the Spark session reads ``"x"`` as an identifier:
``spark.sql.ansi.doubleQuotedIdentifiers``); column types are DuckDB's on both (the data is
described by DuckDB), translated by :attr:`QualityDialect.type_name` where SQL names one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class QualityDialect:
    """The engine-specific spellings of a suite's SQL."""

    name: str
    """``duckdb`` or ``spark``."""
    placeholder: Callable[[str], str]
    """A named parameter (``$p0`` / ``:p0``)."""
    type_name: Callable[[str], str]
    """A DuckDB type name in this dialect."""
    pack: Callable[[Mapping[str, str]], str]
    """A struct of named values (compared null-safely by ``IN``)."""
    regex: Callable[[str, str], str]
    """True where a text contains a match of a pattern."""
    quantiles: Callable[[str, str], str]
    """The exact, linearly interpolated quantiles (a list) of a value."""
    epoch_us: Callable[[str], str]
    """Microseconds since the epoch of a timestamp (a naive one read as UTC)."""
    local_epoch_us: Callable[[str, str], str]
    """Microseconds since the epoch of a naive timestamp in a zone (zone SQL, timestamp)."""
    bitmap: bool
    """Whether distinct integers may be counted with ``bitstring_agg`` (DuckDB); without it
    distinct values are counted exactly as structs."""
    min_by_n: bool
    """Whether ``min_by(value, order, n)`` keeps the first ``n`` rows (DuckDB)."""


def _pack_duckdb(values: Mapping[str, str]) -> str:
    return "struct_pack(" + ", ".join(f"{_quote(k)} := {v}" for k, v in values.items()) + ")"


def _pack_spark(values: Mapping[str, str]) -> str:
    return "named_struct(" + ", ".join(f"{_string(k)}, {v}" for k, v in values.items()) + ")"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "TIMESTAMP_NS": "TIMESTAMP_NTZ",
    "TIMESTAMP_MS": "TIMESTAMP_NTZ",
    "TIMESTAMP_S": "TIMESTAMP_NTZ",
    "HUGEINT": "DECIMAL(38, 0)",
    "UBIGINT": "DECIMAL(20, 0)",
    "UINTEGER": "BIGINT",
    "USMALLINT": "INT",
    "UTINYINT": "SMALLINT",
}


DUCKDB = QualityDialect(
    name="duckdb",
    placeholder=lambda name: f"${name}",
    type_name=lambda t: t,
    pack=_pack_duckdb,
    regex=lambda text, pattern: f"regexp_matches({text}, {pattern})",
    quantiles=lambda value, wanted: f"quantile_cont({value}, {wanted})",
    epoch_us=lambda ts: f"epoch_us({ts})",
    # CAST: a naive TIMESTAMP_NS (a CSV read by pandas) would give TIMESTAMPTZ_NS, which
    # epoch_us does not take
    local_epoch_us=lambda zone, ts: f"epoch_us(timezone({zone}, CAST({ts} AS TIMESTAMP)))",
    bitmap=True,
    min_by_n=True,
)
"""DuckDB's spellings (the default)."""

SPARK = QualityDialect(
    name="spark",
    placeholder=lambda name: f":{name}",
    type_name=lambda t: _SPARK_TYPES.get(t.upper(), t),
    pack=_pack_spark,
    regex=lambda text, pattern: f"regexp_like({text}, {pattern})",
    quantiles=lambda value, wanted: f"percentile({value}, {wanted})",
    epoch_us=lambda ts: f"unix_micros(CAST({ts} AS TIMESTAMP))",
    local_epoch_us=lambda zone, ts: f"unix_micros(to_utc_timestamp({ts}, {zone}))",
    bitmap=False,
    min_by_n=False,
)
"""Spark SQL's spellings (``offline.engine: spark``). Regular expressions run as Java
patterns there (RE2 patterns are checked first and mean the same in both, except for
RE2-only syntax such as ``\\C`` or ``(?P<name>…)``)."""
