"""The reference of one column inside a profile: moved to :mod:`cairn.profiles.columns`.

Kept so ``from cairn.monitoring.reference import NumericReference`` goes on working (removed in
0.3); new code imports from :mod:`cairn.profiles`.
"""

from __future__ import annotations

from cairn.profiles.columns import (
    CategoricalReference,
    ColumnReference,
    NumericReference,
    column_reference,
)

__all__ = ["CategoricalReference", "ColumnReference", "NumericReference", "column_reference"]
