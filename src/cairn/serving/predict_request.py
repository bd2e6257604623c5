"""The bodies of ``POST /v1/predict/{deployment}`` (one row) and its ``/batch`` form.

One row is ``{"entities": {"customer_id": 42}, "features": {"income": 1200}, "unit_id": "u1"}``:
join keys (required), request-time features overriding or adding model inputs (optional), and
the unit an experiment randomizes on (optional). A batch is ``{"rows": [row, ...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cairn.serving.errors import ApiError
from cairn.serving.request import ServingLimits, _got, load_json

_ROW_KEYS = ("entities", "features", "unit_id")
_EXAMPLE = '{"entities": {"customer_id": 42}}'
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class PredictRow:
    """One checked row to score."""

    entity: dict[str, Any]
    features: dict[str, Any] = field(default_factory=dict)
    unit_id: str | None = None


def parse_predict(body: bytes, limits: ServingLimits, *, batch: bool) -> list[PredictRow]:
    """Parse a predict body; every problem is an :class:`ApiError` naming the field.

    Example
    -------
    >>> parse_predict(b'{"entities": {"customer_id": 7}}', ServingLimits(), batch=False)
    [PredictRow(entity={'customer_id': 7}, features={}, unit_id=None)]
    """
    data = load_json(body, _EXAMPLE)
    if not isinstance(data, dict):
        raise _invalid(f"The request body must be a JSON object; got {_got(data)}.")
    if not batch:
        return [_row(data, "")]
    unknown = [k for k in data if k != "rows"]
    if unknown:
        raise _invalid(f"Unknown field {unknown[0]!r} in the request body; allowed: rows.")
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise _invalid(
            f"'rows' must be a non-empty array of rows like {_EXAMPLE}; got {_got(rows)}."
        )
    if len(rows) > limits.max_entities:
        raise ApiError(
            422,
            "too_many_rows",
            f"'rows' has {len(rows)} rows; at most {limits.max_entities} are accepted per request.",
        )
    return [_row(r, f"rows[{i}].") for i, r in enumerate(rows)]


def _row(data: Any, where: str) -> PredictRow:
    if not isinstance(data, dict):
        raise _invalid(
            f"{where.rstrip('.') or 'row'} must be an object like {_EXAMPLE}; got {_got(data)}."
        )
    unknown = [k for k in data if k not in _ROW_KEYS]
    if unknown:
        raise _invalid(
            f"Unknown field {where}{unknown[0]!r}; allowed fields: {', '.join(_ROW_KEYS)}."
        )
    entity = data.get("entities")
    if entity is None:
        raise _invalid(f"The request is missing '{where}entities'; expected {_EXAMPLE}.")
    if not isinstance(entity, dict) or not entity:
        raise _invalid(
            f"'{where}entities' must be a non-empty object of join keys; got {_got(entity)}."
        )
    for key, value in entity.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _invalid(
                f"'{where}entities.{key}' must be an integer or a string; got {_got(value)}."
            )
    features = data.get("features", {})
    if not isinstance(features, dict):
        raise _invalid(
            f"'{where}features' must be an object of feature -> value; got {_got(features)}."
        )
    for key, value in features.items():
        if not isinstance(value, _SCALARS):
            raise _invalid(
                f"'{where}features.{key}' must be a number, string or null; got {_got(value)}."
            )
    unit = data.get("unit_id")
    if unit is not None and (not isinstance(unit, str) or not 0 < len(unit) <= 128):
        raise _invalid(
            f"'{where}unit_id' must be a string of 1 to 128 characters; got {_got(unit)}."
        )
    return PredictRow(entity, features, unit)


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)
