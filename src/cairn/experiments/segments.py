"""Segment dimensions: which column of the prediction log splits an analysis into breakdowns.

A dimension is a prediction-log column (``strategy``, ``model_version``, ...) or one key of the
JSON columns: ``features->>'region'`` or ``entity->>'customer_id'``. A unit's segment is the
value at its first prediction in the experiment; a null value is ``(missing)``. Only the
``max_segments`` largest segments (by units) are kept, the rest are pooled as ``(other)``, so a
high-cardinality dimension cannot explode a report.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from cairn.core.errors import ConfigError

OTHER = "(other)"
"""The segment pooling every value beyond the largest ``max_segments``."""
MISSING = "(missing)"
"""The segment of units whose dimension value is null."""

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_KEY = re.compile(r"^\s*(features|entity)\s*->>\s*'([A-Za-z0-9_.\- ]+)'\s*$")
_RESERVED = frozenset({"label", "observed_at"})


@dataclass(frozen=True)
class Dimension:
    """A validated segment dimension and the SQL that reads it from a log row.

    Example
    -------
    >>> print(Dimension.parse("features->>'region'", ["features", "arm"]).sql)
    CAST(json_extract_string(features, '$."region"') AS VARCHAR)
    >>> Dimension.parse("strategy", ["strategy"]).sql
    'CAST("strategy" AS VARCHAR)'
    """

    name: str
    sql: str
    max_segments: int = 10

    @classmethod
    def parse(cls, text: str, columns: Collection[str], max_segments: int = 10) -> Dimension:
        """Check ``text`` against the log's ``columns``; a bad dimension names the valid forms."""
        if isinstance(max_segments, bool) or not isinstance(max_segments, int) or max_segments < 1:
            raise ConfigError(
                f"max_segments must be an integer of at least 1; got {max_segments!r}."
            )
        text = text.strip() if isinstance(text, str) else text
        if not isinstance(text, str) or not text:
            raise ConfigError(f"A segment dimension must be non-empty text; got {text!r}.")
        match = _JSON_KEY.match(text)
        if match:
            column, key = match.group(1), match.group(2)
            if column not in columns:
                raise ConfigError(f"Segment {text!r}: the prediction log has no {column} column.")
            path = "$." + '"' + key.replace('"', "") + '"'
            sql = f"CAST(json_extract_string({column}, '{path}') AS VARCHAR)"
            return cls(f"{column}.{key}", sql, max_segments)
        if _COLUMN.match(text) and text in columns and text not in _RESERVED:
            return cls(text, f'CAST("{text}" AS VARCHAR)', max_segments)
        raise ConfigError(
            f"Segment {text!r} must be a prediction-log column ({', '.join(sorted(columns))}) or "
            "features->>'name' / entity->>'name'."
        )
