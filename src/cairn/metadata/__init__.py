"""The metadata store: what was defined, when and by whom, in SQLite or PostgreSQL.

Definitions are versioned by content hash, so applying an unchanged object is a no-op and a
change bumps its version; every version is kept. The other capabilities' stores keep tables of
their own in the same database through ``engine_of``, ``create_tables`` and ``utc``.

Every table is created and changed by one Alembic migration history, brought to its head when
a store opens the database (:mod:`cairn.metadata.schema`). Writers that collide retry the same
way everywhere (:mod:`cairn.metadata.retry`).
"""

from __future__ import annotations

from cairn.metadata.retry import ContentionError, is_contention, with_retries
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
    "ContentionError",
    "DefinitionChange",
    "DefinitionRecord",
    "MaterializationRecord",
    "MaterializationState",
    "MetadataStore",
    "NewDefinition",
    "create_tables",
    "engine_of",
    "is_contention",
    "utc",
    "with_retries",
]
