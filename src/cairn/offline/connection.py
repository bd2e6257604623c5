"""DuckDB connections configured from the project's offline settings."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cairn.core.config import OfflineSettings
from cairn.core.errors import ConfigError


def connect(settings: OfflineSettings, root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to the project's temp folder.

    Time zone is UTC so timezone-aware results come back in UTC; insertion order is kept
    so scans return rows in file order.
    """
    temp = Path(settings.temp_directory)
    if not temp.is_absolute():
        temp = root / temp
    temp.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": settings.memory_limit,
        "temp_directory": str(temp),
        "preserve_insertion_order": True,
    }
    if settings.threads:
        config["threads"] = settings.threads
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        raise ConfigError(f"offline settings rejected by DuckDB: {exc}") from None
    con.execute("SET TimeZone = 'UTC'")  # after connect: the ICU extension is loaded by then
    return con


def quote(name: str) -> str:
    """A SQL identifier, double-quoted (names are validated already; this is belt and braces)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def is_aware(sql_type: str) -> bool:
    """Whether a DuckDB type is a timezone-aware timestamp (``TIMESTAMPTZ``, ``TIMESTAMPTZ_NS``)."""
    kind = sql_type.upper()
    return "WITH TIME ZONE" in kind or kind.startswith("TIMESTAMPTZ")


def epoch_us(column: str, sql_type: str) -> str:
    """SQL for microseconds since the epoch of a timestamp column; nanoseconds are floored
    (Cairn's clock unit is the microsecond)."""
    kind = sql_type.upper()
    if kind.endswith("_NS"):
        ns = f"epoch_ns({column})"
        return f"(({ns} - ((({ns} % 1000) + 1000) % 1000)) // 1000)"
    return f"epoch_us({column})"
