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
