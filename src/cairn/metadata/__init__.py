"""The metadata store: what was defined, when and by whom, in SQLite or PostgreSQL.

Definitions are versioned by content hash, so applying an unchanged object is a no-op and a
change bumps its version; every version is kept. The other capabilities' stores keep tables of
their own in the same database through ``engine_of``, ``create_tables`` and ``utc``.
"""

from __future__ import annotations

from cairn.metadata.store import (
    DefinitionChange,
    DefinitionRecord,
    MaterializationRecord,
    MaterializationState,
    MetadataStore,
    NewDefinition,
)
from cairn.metadata.tables import create_tables, engine_of, utc

__all__ = [
    "DefinitionChange",
    "DefinitionRecord",
    "MaterializationRecord",
    "MaterializationState",
    "MetadataStore",
    "NewDefinition",
    "create_tables",
    "engine_of",
    "utc",
]
