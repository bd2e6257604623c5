"""Value types shared across Cairn: feature dtypes and recurring type aliases."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeAlias

from cairn.core.errors import DefinitionError

JSON: TypeAlias = dict[str, Any]
Micros: TypeAlias = int
"""Time as integer microseconds since the Unix epoch, UTC (Cairn's internal clock unit)."""


class Dtype(StrEnum):
    """The value types a feature can have."""

    INT64 = "int64"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"
    TIMESTAMP = "timestamp"

    @classmethod
    def parse(cls, value: Dtype | str, *, owner: str = "dtype") -> Dtype:
        """Return the Dtype for ``value`` (a Dtype or its name), or raise naming the choices.

        Example
        -------
        >>> Dtype.parse("float64")
        <Dtype.FLOAT64: 'float64'>
        """
        if isinstance(value, Dtype):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        allowed = ", ".join(repr(d.value) for d in cls)
        raise DefinitionError(f"{owner} must be one of {allowed}; got {value!r}.")

    @property
    def sql(self) -> str:
        """The DuckDB type a value of this dtype is cast to."""
        return _SQL[self]


_SQL = {
    Dtype.INT64: "BIGINT",
    Dtype.FLOAT64: "DOUBLE",
    Dtype.STRING: "VARCHAR",
    Dtype.BOOL: "BOOLEAN",
    Dtype.TIMESTAMP: "TIMESTAMPTZ",
}

_INTEGER = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_FLOAT = {"FLOAT", "DOUBLE", "REAL"}


def sql_type_fits(dtype: Dtype, sql_type: str) -> bool:
    """Whether a source column of DuckDB type ``sql_type`` can be read as ``dtype``."""
    t = sql_type.upper()
    if dtype is Dtype.INT64:
        return t in _INTEGER
    if dtype is Dtype.FLOAT64:
        return t in _INTEGER or t in _FLOAT or t.startswith("DECIMAL")
    if dtype is Dtype.STRING:
        return t == "VARCHAR" or t.startswith("ENUM")
    if dtype is Dtype.BOOL:
        return t == "BOOLEAN"
    return t.startswith("TIMESTAMP") or t == "DATE"


def dtype_of_sql(sql_type: str) -> Dtype | None:
    """The Dtype a DuckDB column type maps to, or None when there is none."""
    for d in (Dtype.BOOL, Dtype.INT64, Dtype.FLOAT64, Dtype.STRING, Dtype.TIMESTAMP):
        if sql_type_fits(d, sql_type):
            return d
    return None
