"""Outcomes (labels) as they arrive: parsed from ``POST /v1/outcomes`` or a file's rows.

A row is ``{"prediction_id": "...", "label": 1, "observed_at": "2026-11-26T10:00:00Z"}`` or
``{"entities": {"customer_id": 42}, "event_time": "2026-11-01T00:00:00Z", "label": 0}``;
``observed_at`` defaults to now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from cairn.core.predictions import Outcome
from cairn.serving.errors import ApiError
from cairn.serving.request import _got

_KEYS = ("prediction_id", "entities", "event_time", "label", "observed_at", "deployment")


def parse_outcomes(data: Any, *, now_us: int, max_rows: int) -> list[Outcome]:
    """Check ``{"outcomes": [...]}``; an :class:`ApiError` names the bad field.

    Example
    -------
    >>> body = {"outcomes": [{"prediction_id": "p1", "label": 1}]}
    >>> [(o.prediction_id, o.label) for o in parse_outcomes(body, now_us=5, max_rows=10)]
    [('p1', 1.0)]
    """
    if not isinstance(data, Mapping) or set(data) != {"outcomes"}:
        raise _invalid(f"The body must be an object with only 'outcomes'; got {_got(data)}.")
    rows = data["outcomes"]
    if not isinstance(rows, list) or not rows:
        raise _invalid(f"'outcomes' must be a non-empty array; got {_got(rows)}.")
    if len(rows) > max_rows:
        raise ApiError(
            422,
            "too_many_rows",
            f"'outcomes' has {len(rows)} rows; at most {max_rows} per request.",
        )
    return [outcome_of(r, f"outcomes[{i}]", now_us) for i, r in enumerate(rows)]


def outcome_of(row: Any, where: str, now_us: int) -> Outcome:
    """One outcome from a mapping (HTTP body row or file row)."""
    if not isinstance(row, Mapping):
        raise _invalid(f"{where} must be an object; got {_got(row)}.")
    unknown = [k for k in row if k not in _KEYS]
    if unknown:
        raise _invalid(f"Unknown field {where}.{unknown[0]}; allowed: {', '.join(_KEYS)}.")
    label = row.get("label")
    if isinstance(label, bool):
        label = int(label)
    if not isinstance(label, int | float):
        raise _invalid(
            f"{where}.label must be a number or true/false (e.g. 1 for default); got {_got(label)}."
        )
    pid = row.get("prediction_id")
    if pid is not None and (not isinstance(pid, str) or not pid):
        raise _invalid(f"{where}.prediction_id must be a non-empty string; got {_got(pid)}.")
    entity = row.get("entities")
    if entity is not None and (not isinstance(entity, Mapping) or not entity):
        raise _invalid(f"{where}.entities must be an object of join keys; got {_got(entity)}.")
    for key, value in (entity or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _invalid(
                f"{where}.entities.{key} must be an integer or a string; got {_got(value)}."
            )
    event_time = _micros(row.get("event_time"), f"{where}.event_time")
    if pid is None and (entity is None or event_time is None):
        raise _invalid(f"{where} needs a prediction_id, or entities with an event_time.")
    observed = _micros(row.get("observed_at"), f"{where}.observed_at")
    dep = row.get("deployment")
    if dep is not None and not isinstance(dep, str):
        raise _invalid(f"{where}.deployment must be a string; got {_got(dep)}.")
    return Outcome(
        label=float(label),
        observed_at=now_us if observed is None else observed,
        prediction_id=pid,
        entity=dict(entity) if entity is not None else None,
        event_time=event_time,
        deployment=dep,
    )


def _micros(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime | date) and not isinstance(value, datetime):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(f"{where} must be an ISO 8601 time; got {_got(value)}.") from None
    else:
        raise _invalid(f"{where} must be an ISO 8601 time string; got {_got(value)}.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def outcome_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Rows of the outcome log."""
    from cairn.serving.log_records import outcome_row

    return [outcome_row(o) for o in outcomes]


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)
