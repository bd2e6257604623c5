"""The metadata store: what was defined, when and by whom, in SQLite or PostgreSQL.

Definitions are versioned by content hash, so applying an unchanged object is a no-op and a
change bumps its version; every version is kept.
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

__all__ = [
    "DefinitionChange",
    "DefinitionRecord",
    "MaterializationRecord",
    "MaterializationState",
    "MetadataStore",
    "NewDefinition",
]
