"""What several Cairn capabilities share: value types, errors, settings and time helpers.

``cairn.core`` imports nothing else from Cairn, so every other package may depend on it.
"""

from __future__ import annotations

from cairn.core.errors import (
    CairnError,
    ConfigError,
    DataError,
    DefinitionError,
    DependencyMissingError,
    EntityDataFrameError,
    SourceError,
    UnknownFeatureError,
)
from cairn.core.types import Dtype

__all__ = [
    "CairnError",
    "ConfigError",
    "DataError",
    "DefinitionError",
    "DependencyMissingError",
    "Dtype",
    "EntityDataFrameError",
    "SourceError",
    "UnknownFeatureError",
]
