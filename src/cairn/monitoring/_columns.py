"""Reading one column of the current data: moved to :mod:`cairn.profiles._values`, which reads
reference and current data alike (booleans as ``true``/``false`` on both sides)."""

from __future__ import annotations

from cairn.profiles._values import Frame, columns_of, numeric_values, row_count, text_values

__all__ = ["Frame", "columns_of", "numeric_values", "row_count", "text_values"]
